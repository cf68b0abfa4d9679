package guardmodel

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/warden-safety/warden/detect"
)

// Set holds the configured guards by name. Its Escalate method is what the
// gateway's Escalator interface asks for: the policy names a guard, the
// gateway passes the text.
type Set struct {
	guards map[string]*Guard
}

// NewSet builds one guard per configuration; names must be unique.
func NewSet(cfgs []Config) (*Set, error) {
	s := &Set{guards: make(map[string]*Guard, len(cfgs))}
	for i := range cfgs {
		if _, dup := s.guards[cfgs[i].Name]; dup {
			return nil, fmt.Errorf("guardmodel: two guards named %q", cfgs[i].Name)
		}
		g, err := New(cfgs[i])
		if err != nil {
			return nil, err
		}
		s.guards[cfgs[i].Name] = g
	}
	return s, nil
}

// Get returns the guard named name.
func (s *Set) Get(name string) (*Guard, bool) {
	g, ok := s.guards[name]
	return g, ok
}

// Names lists the guards, sorted.
func (s *Set) Names() []string {
	out := make([]string, 0, len(s.guards))
	for n := range s.guards {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// Escalate asks the guard named name about text. Like Scan, a failure
// returns a *Error in fail-closed mode and no findings with a nil error in
// fail-open mode (after Config.OnFailure); an unknown name is an error.
// The returned findings belong to the caller.
func (s *Set) Escalate(ctx context.Context, name, text string) ([]detect.Finding, error) {
	g, ok := s.guards[name]
	if !ok {
		return nil, fmt.Errorf("guardmodel: no guard named %q (have %v)", name, s.Names())
	}
	fs, err := g.Check(ctx, text)
	if err != nil {
		var ge *Error
		if errors.As(err, &ge) && ge.Open {
			return nil, nil
		}
		return nil, err
	}
	return append([]detect.Finding(nil), fs...), nil
}
