package node

import "testing"

func TestNatsDialAddr(t *testing.T) {
	for _, tc := range []struct{ msg, want string }{
		{"Error trying to connect to route (attempt 1): dial tcp 127.0.0.1:4248: connect: connection refused", "127.0.0.1:4248"},
		{`Error connecting to implicit gateway "hubnet-testnet.se" (127.0.0.1:35565) at 127.0.0.1:35565 (attempt 1): dial tcp 127.0.0.1:35565: connect: connection refused`, "127.0.0.1:35565"},
		{"Error trying to connect to route (attempt 2): dial tcp [::1]:4248: i/o timeout", "[::1]:4248"},
		{`Error trying to connect as leafnode to remote server "127.0.0.1:17422" (attempt 1): dial tcp 127.0.0.1:17422: connect: connection refused`, "127.0.0.1:17422"},
		{"127.0.0.1:50123 - rid:6 - TLS route handshake error: dial tcp 127.0.0.1:1: x", ""},
		{"Error trying to connect to route (attempt 1): no such host", ""},
	} {
		if got := natsDialAddr(tc.msg); got != tc.want {
			t.Errorf("natsDialAddr(%q): got %q, want %q", tc.msg, got, tc.want)
		}
	}
}
