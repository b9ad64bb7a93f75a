package geo

import (
	"strings"
	"unicode/utf8"
)

// TeamRoles returns the roles of the grid team 一长三员: grid leader 网格长, grid worker
// 网格员, grid assistant 网格辅助员, grid instructor 网格指导员.
func TeamRoles() []string { return []string{"leader", "worker", "assistant", "instructor"} }

// MaskName hides a person's name but its first character: 张三丰 → 张**, 李四 → 李*.
// A one-character name becomes *. Personal fields go through MaskName and MaskPhone
// whenever the caller may not see them in the clear.
func MaskName(name string) string {
	n := utf8.RuneCountInString(name)
	if n == 0 {
		return ""
	}
	if n == 1 {
		return "*"
	}
	first, _ := utf8.DecodeRuneInString(name)
	return string(first) + strings.Repeat("*", n-1)
}

// MaskPhone hides the middle digits of a phone number and keeps its separators: the first
// three and the last four digits stay (13812345678 → 138****5678); a number of fewer than
// eight digits keeps only its last two.
func MaskPhone(phone string) string {
	digits := 0
	for _, r := range phone {
		if r >= '0' && r <= '9' {
			digits++
		}
	}
	head, tail := 3, 4
	if digits < 8 {
		head, tail = 0, 2
	}
	var b strings.Builder
	i := 0
	for _, r := range phone {
		if r < '0' || r > '9' {
			b.WriteRune(r)
			continue
		}
		if i < head || i >= digits-tail {
			b.WriteRune(r)
		} else {
			b.WriteByte('*')
		}
		i++
	}
	return b.String()
}

// ConflictError is a geo.ErrConflict (409) that names the field of the request that
// collides with the stored state and says with what (Details: the ids involved).
type ConflictError struct {
	Field   string
	Reason  string
	Details map[string]any
}

func (e *ConflictError) Error() string {
	if e.Field == "" {
		return "geo: " + e.Reason
	}
	return "geo: " + e.Field + ": " + e.Reason
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// PersonRef is a person as shown next to something else (a branch's secretary, a team
// role, a link): id, name and, where it matters, phone. Name and Phone are personal fields.
type PersonRef struct {
	ID    int64   `json:"id"`
	Name  string  `json:"name"`
	Phone *string `json:"phone,omitempty"`
}
