package node

import (
	"crypto/ed25519"
	"io"
	"net"
	"testing"
	"time"
)

// loopbackPair returns both ends of a TCP connection on 127.0.0.1, closed when the
// test ends.
func loopbackPair(t *testing.T) (accepted, dialled net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dialled, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	accepted, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { accepted.Close(); dialled.Close() })
	return accepted, dialled
}

// A gateway connection whose handshake is done but which nats-server does not list
// yet, its CONNECT still on the way, is kept through a prune, and cut when its hub
// is revoked: the hub on the other end reads the close.
func TestGatewayConns_cutBeforeListed(t *testing.T) {
	g := newGatewayConns()
	revoked, _, _ := ed25519.GenerateKey(nil)
	other, _, _ := ed25519.GenerateKey(nil)
	fromRevoked, revokedEnd := loopbackPair(t)
	fromOther, otherEnd := loopbackPair(t)
	g.add(revoked, fromRevoked)
	g.add(other, fromOther)

	g.prune(map[string]bool{}) // the server lists neither yet
	if n := g.cut(revoked); n != 1 {
		t.Fatalf("cut closed %d connections of the revoked hub, want 1", n)
	}
	revokedEnd.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := revokedEnd.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the revoked hub reads %v, want the connection closed (EOF)", err)
	}
	otherEnd.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := otherEnd.Read(make([]byte, 1)); err == io.EOF {
		t.Error("the other hub's connection was closed too")
	}
}

// A recorded connection that nats-server has not listed for longer than a handshake
// takes is forgotten; one it lists is kept however old.
func TestGatewayConns_pruneForgetsUnlisted(t *testing.T) {
	g := newGatewayConns()
	key, _, _ := ed25519.GenerateKey(nil)
	listed, _ := loopbackPair(t)
	gone, _ := loopbackPair(t)
	g.add(key, listed)
	g.add(key, gone)
	for c, a := range g.conns {
		a.at = a.at.Add(-2 * gatewayConnGrace)
		g.conns[c] = a
	}
	g.prune(map[string]bool{listed.RemoteAddr().String(): true})
	if _, ok := g.conns[gone]; ok {
		t.Error("a connection the server has not listed for two minutes is still recorded")
	}
	if _, ok := g.conns[listed]; !ok {
		t.Error("a listed connection was forgotten")
	}
}
