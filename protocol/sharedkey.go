package protocol

import (
	"sync"

	"golang.org/x/crypto/nacl/box"
)

// maxSharedKeys bounds how many shared keys a process remembers. A hub seals to and
// opens from the box keys of the hubs of its network, a few hundred; the process of
// the whole catalogue on one machine, each of its hubs with some of the others. When
// full, the memory starts over: keys from a flood of made-up senders cost what they
// cost without it, and no more memory.
const maxSharedKeys = 4096

// sharedKeys remembers the key nacl/box derives from a hub's private box key and
// another hub's public one. Deriving it is an X25519 multiplication (two, as
// x/crypto computes it) for every box sealed or opened, which was a tenth of the CPU
// of a live query to 50 of 457 hubs, where every answer is sealed once and opened
// once. The box is the same byte for byte: box.Seal is the derivation followed by
// box.SealAfterPrecomputation. The shared keys are as secret as the private keys
// they come from, and stay in the same process.
var sharedKeys = struct {
	sync.Mutex
	m map[[64]byte]*[32]byte // private key, public key -> shared key
}{m: map[[64]byte]*[32]byte{}}

// sharedKey returns the shared key of the private box key priv and the public box
// key pub.
func sharedKey(priv, pub *[32]byte) *[32]byte {
	var k [64]byte
	copy(k[:32], priv[:])
	copy(k[32:], pub[:])
	sharedKeys.Lock()
	s, ok := sharedKeys.m[k]
	sharedKeys.Unlock()
	if ok {
		return s
	}
	s = new([32]byte)
	box.Precompute(s, pub, priv)
	sharedKeys.Lock()
	if len(sharedKeys.m) >= maxSharedKeys {
		clear(sharedKeys.m)
	}
	sharedKeys.m[k] = s
	sharedKeys.Unlock()
	return s
}

// sealBox seals plain from the private box key priv to the public box key to.
func sealBox(plain []byte, nonce *[24]byte, to, priv *[32]byte) []byte {
	return box.SealAfterPrecomputation(nil, plain, nonce, sharedKey(priv, to))
}

// openBox opens a box sealed by the public box key from to the private box key
// priv, or any of earlier (the hub's box keys before its last rolls).
func openBox(sealed []byte, nonce *[24]byte, from, priv *[32]byte, earlier [][32]byte) ([]byte, bool) {
	plain, ok := box.OpenAfterPrecomputation(nil, sealed, nonce, sharedKey(priv, from))
	for i := 0; !ok && i < len(earlier); i++ {
		plain, ok = box.OpenAfterPrecomputation(nil, sealed, nonce, sharedKey(&earlier[i], from))
	}
	return plain, ok
}
