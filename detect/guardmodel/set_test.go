package guardmodel_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/warden-safety/warden/detect/guardmodel"
	"github.com/warden-safety/warden/hazard"
)

func TestSetEscalate(t *testing.T) {
	llm := newFakeLLM(t)
	var n atomic.Int64
	mod := moderationServer(t, map[string]string{"threat": readFile(t, "testdata/moderation_flagged.json")}, &n)
	open := lgConfig(llm.srv.URL)
	open.Name, open.FailMode = "lg-open", guardmodel.FailOpen
	set, err := guardmodel.NewSet([]guardmodel.Config{
		lgConfig(llm.srv.URL),
		{Name: "oai", Kind: guardmodel.ModerationKind, BaseURL: mod.URL, Model: "omni-moderation-latest", APIKey: testKey},
		open,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(set.Names(), []string{"lg", "lg-open", "oai"}) {
		t.Fatalf("names %v", set.Names())
	}
	ctx := context.Background()
	fs, err := set.Escalate(ctx, "lg", "a nerve agent")
	if err != nil || len(fs) != 1 || fs[0].Category != hazard.CBRNWeapons {
		t.Fatalf("lg: %+v %v", fs, err)
	}
	fs[0].Score = 0 // the caller owns the slice: the cache must not change
	if fs, _ := set.Escalate(ctx, "lg", "a nerve agent"); fs[0].Score != 1 {
		t.Fatal("caller's change reached the cache")
	}
	if fs, err := set.Escalate(ctx, "oai", "threat"); err != nil || len(fs) != 2 {
		t.Fatalf("oai: %+v %v", fs, err)
	}
	var ge *guardmodel.Error
	if _, err := set.Escalate(ctx, "lg", "boom"); !errors.As(err, &ge) || ge.Status != 500 {
		t.Fatalf("fail closed: %v", err)
	}
	if fs, err := set.Escalate(ctx, "lg-open", "boom"); err != nil || fs != nil {
		t.Fatalf("fail open: %+v %v", fs, err)
	}
	if _, err := set.Escalate(ctx, "gpt", "x"); err == nil || !strings.Contains(err.Error(), `no guard named "gpt"`) {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := guardmodel.NewSet([]guardmodel.Config{lgConfig(llm.srv.URL), lgConfig(llm.srv.URL)}); err == nil {
		t.Fatal("duplicate names accepted")
	}
	if g, ok := set.Get("oai"); !ok || g.Name() != "guardmodel:oai" {
		t.Fatal("Get")
	}
}
