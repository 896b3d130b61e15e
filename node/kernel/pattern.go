package kernel

import "regexp"

// A sysctl name or pattern (pkg/apis/policy/validation
// IsValidSysctlPattern).
const (
	sysctlMaxLength     = 253
	sysctlPatternString = `([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*([a-z0-9][-_a-z0-9]*)?[a-z0-9*]`
)

var sysctlPattern = regexp.MustCompile("^" + sysctlPatternString + "$")

func validSysctlPattern(s string) bool {
	return len(s) <= sysctlMaxLength && sysctlPattern.MatchString(s)
}
