package kernel

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/version"
)

// Version is a kernel release reduced to what the kubelet compares:
// MAJOR.MINOR.PATCH (pkg/util/kernel GetVersion parses
// /proc/sys/kernel/osrelease with version.ParseGeneric).
type Version struct {
	Major, Minor, Patch uint
	// Release is the string parsed, as uname -r prints it.
	Release string
}

// Parse parses a kernel release such as "6.8.0-60-generic", "4.4.0" or
// "5.15.0-139-generic" as the kubelet does: leading MAJOR.MINOR[.PATCH],
// the rest ignored.
func Parse(release string) (Version, error) {
	v, err := version.ParseGeneric(strings.TrimSpace(release))
	if err != nil {
		return Version{}, fmt.Errorf("parse kernel release %q: %w", release, err)
	}
	return Version{Major: v.Major(), Minor: v.Minor(), Patch: v.Patch(), Release: release}, nil
}

// MustParse is Parse for constants; it panics on a bad release.
func MustParse(release string) Version {
	v, err := Parse(release)
	if err != nil {
		panic(err)
	}
	return v
}

// Compare returns -1, 0 or 1 as v is older than, the same as or newer
// than w, by MAJOR.MINOR.PATCH.
func (v Version) Compare(w Version) int {
	return cmp.Or(cmp.Compare(v.Major, w.Major), cmp.Compare(v.Minor, w.Minor), cmp.Compare(v.Patch, w.Patch))
}

// AtLeast says whether v is w or newer.
func (v Version) AtLeast(w Version) bool { return v.Compare(w) >= 0 }

// LessThan says whether v is older than w.
func (v Version) LessThan(w Version) bool { return v.Compare(w) < 0 }

// String is MAJOR.MINOR.PATCH.
func (v Version) String() string {
	return strconv.FormatUint(uint64(v.Major), 10) + "." + strconv.FormatUint(uint64(v.Minor), 10) + "." + strconv.FormatUint(uint64(v.Patch), 10)
}
