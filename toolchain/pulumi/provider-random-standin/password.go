package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/bcrypt"
)

// Character classes a generated value draws from. The default special characters are the ones the
// real provider documents for `special`: !@#$%&*()-_=+[]{}<>:?
const (
	lowerChars          = "abcdefghijklmnopqrstuvwxyz"
	upperChars          = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	numericChars        = "0123456789"
	defaultSpecialChars = "!@#$%&*()-_=+[]{}<>:?"
)

// spec is a fully defaulted, validated description of the value to generate.
type spec struct {
	length                                     int
	lower, upper, numeric, special             bool
	minLower, minUpper, minNumeric, minSpecial int
	overrideSpecial                            string // used in place of the default set when not empty
}

// class is one character class with the minimum count of its characters in the result.
type class struct {
	chars string
	min   int
}

// classes returns the enabled character classes. A class whose flag is false contributes nothing,
// whatever its minimum says.
func (s spec) classes() []class {
	specialChars := defaultSpecialChars
	if s.overrideSpecial != "" {
		specialChars = s.overrideSpecial
	}
	var cs []class
	add := func(enabled bool, chars string, min int) {
		if enabled && chars != "" {
			cs = append(cs, class{chars: chars, min: min})
		}
	}
	add(s.lower, lowerChars, s.minLower)
	add(s.upper, upperChars, s.minUpper)
	add(s.numeric, numericChars, s.minNumeric)
	add(s.special, specialChars, s.minSpecial)
	return cs
}

// generate returns a random string as described by s, using crypto/rand: first each class's
// minimum count of characters from that class, then the rest from the union of all enabled
// classes, then the whole shuffled so the guaranteed characters are not at fixed positions.
func generate(s spec) (string, error) {
	if s.length < 1 {
		return "", errors.New("length must be at least 1")
	}
	cs := s.classes()
	if len(cs) == 0 {
		return "", errors.New("at least one of lower, upper, numeric and special must be true")
	}
	all := ""
	out := make([]byte, 0, s.length)
	for _, c := range cs {
		all += c.chars
		for range c.min {
			ch, err := pick(c.chars)
			if err != nil {
				return "", err
			}
			out = append(out, ch)
		}
	}
	if len(out) > s.length {
		return "", fmt.Errorf("length (%d) must be at least the sum of the minimum counts (%d)", s.length, len(out))
	}
	for len(out) < s.length {
		ch, err := pick(all)
		if err != nil {
			return "", err
		}
		out = append(out, ch)
	}
	// Fisher-Yates shuffle.
	for i := len(out) - 1; i > 0; i-- {
		j, err := randInt(i + 1)
		if err != nil {
			return "", err
		}
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

// pick returns a uniformly random byte of chars (the character sets are ASCII).
func pick(chars string) (byte, error) {
	i, err := randInt(len(chars))
	if err != nil {
		return 0, err
	}
	return chars[i], nil
}

func randInt(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, fmt.Errorf("reading random bytes: %w", err)
	}
	return int(v.Int64()), nil
}

// bcryptHash hashes value with bcrypt at the default cost. bcrypt only looks at the first 72
// bytes, and golang.org/x/crypto/bcrypt refuses longer input, so (as the real provider documents
// for `bcryptHash`) a longer value is hashed by its first 72 bytes.
func bcryptHash(value string) (string, error) {
	b := []byte(value)
	if len(b) > 72 {
		b = b[:72]
	}
	h, err := bcrypt.GenerateFromPassword(b, bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("bcrypt: %w", err)
	}
	return string(h), nil
}
