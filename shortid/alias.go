package shortid

import "fmt"

// DefaultReserved returns the words that [NewAlias] reserves when
// AliasOptions.Reserved is nil: paths a web front end of a shortener usually
// serves itself. It returns a new slice on every call.
func DefaultReserved() []string {
	return []string{
		"about", "account", "admin", "api", "app", "assets", "auth", "blog", "dashboard", "docs",
		"favicon", "health", "healthz", "help", "home", "index", "login", "logout", "metrics",
		"new", "privacy", "register", "robots", "root", "settings", "signin", "signup", "static",
		"stats", "status", "support", "terms", "www",
	}
}

// AliasOptions configures an [Alias] validator. The zero value is valid.
type AliasOptions struct {
	// MinLength is the shortest accepted alias. Zero means 4.
	MinLength int
	// MaxLength is the longest accepted alias. Zero means 32.
	MaxLength int
	// Reserved lists words no alias may equal, compared without regard to
	// ASCII case. Nil means DefaultReserved(); an empty non-nil slice
	// reserves nothing.
	Reserved []string
	// CodeLength, when positive, rejects aliases of exactly this length made
	// only of base62 characters with ErrCodeLike: such an alias is a valid
	// generated code and would collide with the code of some future token.
	// Set it to the Codec's length when aliases and codes share one table.
	CodeLength int
}

// Alias validates custom aliases: MinLength to MaxLength characters from [Alphabet]
// plus '-' and '_', starting with a letter or digit, not a reserved word, and
// optionally not shaped like a generated code. An Alias is immutable and safe
// for concurrent use.
type Alias struct {
	min, max int
	codeLen  int
	reserved map[string]struct{}
}

// NewAlias returns a validator for opts, which may be nil. It returns an
// error matching [ErrLength] when the bounds are inconsistent.
func NewAlias(opts *AliasOptions) (*Alias, error) {
	var o AliasOptions
	if opts != nil {
		o = *opts
	}
	if o.MinLength == 0 {
		o.MinLength = 4
	}
	if o.MaxLength == 0 {
		o.MaxLength = 32
	}
	if o.MinLength < 1 || o.MaxLength < o.MinLength {
		return nil, fmt.Errorf("shortid: new alias: bounds [%d, %d] invalid: %w", o.MinLength, o.MaxLength, ErrLength)
	}
	if o.Reserved == nil {
		o.Reserved = DefaultReserved()
	}
	a := &Alias{min: o.MinLength, max: o.MaxLength, codeLen: o.CodeLength, reserved: make(map[string]struct{}, len(o.Reserved))}
	for _, w := range o.Reserved {
		a.reserved[lowerASCII(w)] = struct{}{}
	}
	return a, nil
}

// Validate returns nil when s is an acceptable alias, and otherwise an
// [*AliasError] whose Reason is [ErrLength], [ErrCharset], [ErrReserved] or
// [ErrCodeLike], checked in that order.
func (a *Alias) Validate(s string) error {
	if len(s) < a.min || len(s) > a.max {
		return &AliasError{Alias: truncate(s), Reason: ErrLength, Index: -1, Min: a.min, Max: a.max}
	}
	onlyBase62 := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if digitValue(c) >= 0 {
			continue
		}
		if (c == '-' || c == '_') && i > 0 {
			onlyBase62 = false
			continue
		}
		return &AliasError{Alias: truncate(s), Reason: ErrCharset, Index: i, Min: a.min, Max: a.max}
	}
	if _, ok := a.reserved[lowerASCII(s)]; ok {
		return &AliasError{Alias: s, Reason: ErrReserved, Index: -1, Min: a.min, Max: a.max}
	}
	if onlyBase62 && a.codeLen > 0 && len(s) == a.codeLen {
		return &AliasError{Alias: s, Reason: ErrCodeLike, Index: -1, Min: a.min, Max: a.max}
	}
	return nil
}

// lowerASCII lowers ASCII letters only, so that validation does not depend
// on Unicode tables.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
