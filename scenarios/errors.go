package scenarios

import (
	"strconv"
	"strings"
)

// Error is one problem in a scenario file: where it is and what is wrong.
type Error struct {
	// File is the path the scenario was read from, as given to Load or Parse.
	File string
	// Line is the 1-based line of the offending key or value; 0 when the
	// problem has no single place (an empty file, for example).
	Line int
	// Field is the path of the field as users write it, for example
	// spec.nodePools[1].capacity.cpu; empty when the problem is the file as a
	// whole.
	Field string
	// Message says what is wrong.
	Message string
	// Err is the underlying error, if any (a file that cannot be read).
	Err error
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error { return e.Err }

// Error formats e as "FILE:LINE: FIELD: MESSAGE", leaving out ":LINE" when
// Line is 0 and "FIELD: " when Field is empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	for _, part := range []string{e.Field, e.Message} {
		if part == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteString(": ")
		}
		b.WriteString(part)
	}
	return b.String()
}

// ErrorList is what Parse returns when a file has more than one problem:
// every *Error, in the order of their lines. errors.As finds the first one.
type ErrorList []*Error

// Error formats the list one error per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the errors of the list, for errors.Is and errors.As.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}
