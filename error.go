package cable

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes. Each maps to one HTTP status in the http package.
const (
	EINVALID   = "invalid"
	ENOTFOUND  = "not_found"
	EFORBIDDEN = "forbidden"
	ECONFLICT  = "conflict"
	EINTERNAL  = "internal"
	// EUNAUTHORIZED means the caller has not signed in or presented a valid token.
	EUNAUTHORIZED = "unauthorized"
)

// Error is the application error. Code says what kind of failure it is,
// Message is safe to show to the person who caused it, and Problems lists
// every field that failed validation when Code is EINVALID.
type Error struct {
	Code     string
	Message  string
	Problems []Problem
}

// Problem is one validation failure, naming the field it concerns.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p Problem) String() string {
	if p.Field == "" {
		return p.Message
	}
	return p.Field + ": " + p.Message
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Problems) == 0 {
		return fmt.Sprintf("cable: code=%s message=%s", e.Code, e.Message)
	}
	parts := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		parts[i] = p.String()
	}
	msg := e.Message
	if msg == "" {
		msg = "invalid cable"
	}
	return msg + ": " + strings.Join(parts, "; ")
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error listing every problem, or nil if there
// are none.
func Invalid(message string, problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: message, Problems: problems}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic message for other errors so internals never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		if e.Message == "" && len(e.Problems) > 0 {
			return e.Error()
		}
		return e.Message
	}
	return "Internal error."
}

// ErrorProblems returns the validation problems carried by err, if any.
func ErrorProblems(err error) []Problem {
	var e *Error
	if errors.As(err, &e) {
		return e.Problems
	}
	return nil
}

// Problems collects validation problems.
type Problems []Problem

// Add records a problem with field.
func (ps *Problems) Add(field, format string, args ...any) {
	*ps = append(*ps, Problem{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns an EINVALID error holding the problems, or nil.
func (ps Problems) Err(message string) error { return Invalid(message, ps) }
