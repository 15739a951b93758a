package node

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/hubnet-eu/hubnet/protocol"
)

// Passwords are hashed with Argon2id (RFC 9106) at the parameters OWASP recommends
// for it: 19 MiB of memory, 2 passes, 1 lane, a 16-byte random salt and a 32-byte
// hash. The hash is stored in the PHC string form, with its parameters:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt, base64>$<hash, base64>
//
// so that stronger parameters can come later without making anyone set a new
// password: a hash is checked at the parameters it names. One hash takes about 19
// MiB for some tens of milliseconds; at most hashSlots run at once, so a flood of
// sign-ins queues rather than runs the hub out of memory.
const (
	argonMemory  = 19 * 1024 // KiB
	argonTime    = 2
	argonThreads = 1
	argonSaltLen = 16
	argonKeyLen  = 32

	// hashSlots bounds the Argon2id hashes computed at once.
	hashSlots = 2
	// maxArgonMemory bounds the memory a stored hash may ask for, in KiB, so that a
	// damaged or hostile record cannot make one check take gigabytes.
	maxArgonMemory = 256 * 1024
)

// Password rules.
const (
	MinPasswordLen = 12  // characters
	MaxPasswordLen = 256 // characters
)

// hashSem bounds the hashes computed at once.
var hashSem = make(chan struct{}, hashSlots)

// hashPassword returns the PHC string of password under a fresh salt.
func hashPassword(password string) string {
	salt := make([]byte, argonSaltLen)
	rand.Read(salt)
	hashSem <- struct{}{}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	<-hashSem
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		enc.EncodeToString(salt), enc.EncodeToString(key))
}

// checkPassword reports whether password matches the PHC string stored, comparing
// in constant time. A hash it cannot read matches nothing.
func checkPassword(stored, password string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > maxArgonMemory || t == 0 || t > 10 || p == 0 {
		return false
	}
	enc := base64.RawStdEncoding
	salt, err1 := enc.DecodeString(parts[4])
	want, err2 := enc.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false
	}
	hashSem <- struct{}{}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	<-hashSem
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is a hash of no one's password, checked when a sign-in names nobody, so
// that the answer takes as long as for a person: the time does not tell who has an
// account here.
var dummyHash = sync.OnceValue(func() string { return hashPassword("no one's password; it matches nothing") })

// checkNewPassword returns the problems of a password a person chooses.
func checkNewPassword(password, email string) error {
	v := &protocol.ValidationError{What: "password"}
	switch n := utf8.RuneCountInString(password); {
	case !utf8.ValidString(password):
		v.Problems = append(v.Problems, protocol.FieldError{Field: "password", Rule: "must be UTF-8 text"})
	case n < MinPasswordLen:
		v.Problems = append(v.Problems, protocol.FieldError{Field: "password", Rule: fmt.Sprintf("must be at least %d characters, got %d", MinPasswordLen, n)})
	case n > MaxPasswordLen:
		v.Problems = append(v.Problems, protocol.FieldError{Field: "password", Rule: fmt.Sprintf("must be at most %d characters", MaxPasswordLen)})
	case strings.EqualFold(password, email) || strings.Contains(strings.ToLower(password), strings.ToLower(strings.SplitN(email, "@", 2)[0])) && len(email) > 0 && len(strings.SplitN(email, "@", 2)[0]) >= 4:
		v.Problems = append(v.Problems, protocol.FieldError{Field: "password", Rule: "must not contain your e-mail address or its name part"})
	}
	return v.Err()
}
