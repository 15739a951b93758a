package spread

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"time"
)

// Child is a copy of this program started as a helper process, told what to do by an
// environment variable, that takes one command per line on its standard input and
// answers each, and what it has to say by itself, with one JSON value per line on its
// standard output. The demo and the scale benchmark run their hubs in children.
type Child struct {
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	replies *json.Decoder
}

// StartChild starts this program again with env set to spec as JSON, its standard
// error going to stderr.
func StartChild(env string, spec any, stderr io.Writer) (*Child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, err
	}
	c := &Child{cmd: exec.Command(exe)}
	c.cmd.Env = append(os.Environ(), env+"="+string(b))
	c.cmd.Stderr = stderr
	if c.stdin, err = c.cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := c.cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	c.replies = json.NewDecoder(stdout)
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	return c, nil
}

// Send writes a command line.
func (c *Child) Send(command string) error {
	_, err := io.WriteString(c.stdin, command+"\n")
	return err
}

// Next decodes the child's next answer into v. It gives up when ctx ends (then Stop
// ends the child) or wait passes: a child that has not answered in time is killed,
// since its answers would come out of turn.
func (c *Child) Next(ctx context.Context, wait time.Duration, v any) error {
	done := make(chan error, 1)
	go func() { done <- c.replies.Decode(v) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("it stopped (%w)", err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(wait):
		c.cmd.Process.Kill()
		return fmt.Errorf("no answer within %v", wait)
	}
}

// Stop sends "stop", closes the child's input and waits for it to exit, killing it
// after grace.
func (c *Child) Stop(grace time.Duration) {
	c.Send("stop")
	c.stdin.Close()
	exited := make(chan struct{})
	go func() { c.cmd.Wait(); close(exited) }()
	select {
	case <-exited:
	case <-time.After(grace):
		c.cmd.Process.Kill()
		<-exited
	}
}
