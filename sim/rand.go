package sim

import (
	"hash/fnv"
	"math/rand/v2"
)

// Stream returns the random stream of one entity: derived from the scenario
// seed and the entity's name, so adding an entity never changes what another
// one draws.
func Stream(seed uint64, name string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(name))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}
