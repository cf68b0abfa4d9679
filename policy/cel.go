package policy

import (
	"fmt"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/interpreter"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/hazard"
)

// celCostLimit bounds the work one condition may do per evaluation, in CEL
// cost units (roughly one per operation, more for string and list work).
// An expression that goes over it fails to evaluate, which the fail mode
// handles.
const celCostLimit = 10_000

// celMaxSource bounds the length of a condition's source text.
const celMaxSource = 4096

// The variables a condition may use. They are declared with dotted names,
// so a typo such as request.rout is a compile error at load time.
const (
	varRoute      = "request.route"
	varModel      = "request.model"
	varTenant     = "request.tenant"
	varStage      = "request.stage"
	varMetadata   = "request.metadata"
	varFlagged    = "verdict.flagged"
	varScores     = "verdict.scores"
	varCategories = "verdict.categories"
)

func requestVars() []cel.EnvOption {
	return []cel.EnvOption{
		cel.Variable(varRoute, cel.StringType),
		cel.Variable(varModel, cel.StringType),
		cel.Variable(varTenant, cel.StringType),
		cel.Variable(varStage, cel.StringType),
		cel.Variable(varMetadata, cel.MapType(cel.StringType, cel.StringType)),
	}
}

func verdictVars() []cel.EnvOption {
	return []cel.EnvOption{
		cel.Variable(varFlagged, cel.BoolType),
		cel.Variable(varScores, cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable(varCategories, cel.ListType(cel.StringType)),
	}
}

// celEnvs are the two compile environments: one with request variables
// only, one with request and verdict variables. A condition that compiles
// in the first does not depend on the verdict. The environments are
// immutable once built.
type celEnvs struct {
	req, full *cel.Env
}

var loadCELEnvs = sync.OnceValues(func() (*celEnvs, error) {
	req, err := cel.NewEnv(requestVars()...)
	if err != nil {
		return nil, fmt.Errorf("cel request env: %w", err)
	}
	full, err := cel.NewEnv(append(requestVars(), verdictVars()...)...)
	if err != nil {
		return nil, fmt.Errorf("cel env: %w", err)
	}
	return &celEnvs{req: req, full: full}, nil
})

// condition is a compiled `when:` expression.
type condition struct {
	src string
	prg cel.Program
	// needsVerdict is true when the expression reads verdict.*: it can be
	// evaluated only by Decide, and request-only questions (Checks,
	// Thresholds, ...) treat the rule as possibly matching.
	needsVerdict bool
}

// celIssue is a compile error at a position inside the expression source
// (line 1-based, column 0-based in runes).
type celIssue struct {
	line, col int
	msg       string
}

func compileCondition(src string) (*condition, []celIssue) {
	if len(src) > celMaxSource {
		return nil, []celIssue{{1, 0, fmt.Sprintf("condition is %d bytes long; the limit is %d", len(src), celMaxSource)}}
	}
	envs, err := loadCELEnvs()
	if err != nil {
		return nil, []celIssue{{1, 0, err.Error()}}
	}
	ast, iss := envs.full.Compile(src)
	if iss != nil && iss.Err() != nil {
		var out []celIssue
		for _, e := range iss.Errors() {
			out = append(out, celIssue{e.Location.Line(), e.Location.Column(), e.Message})
		}
		return nil, out
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, []celIssue{{1, 0, fmt.Sprintf("condition must be a bool expression, not %s", ast.OutputType())}}
	}
	prg, err := envs.full.Program(ast, cel.CostLimit(celCostLimit), cel.EvalOptions(cel.OptOptimize))
	if err != nil {
		return nil, []celIssue{{1, 0, err.Error()}}
	}
	_, riss := envs.req.Compile(src)
	return &condition{src: src, prg: prg, needsVerdict: riss != nil && riss.Err() != nil}, nil
}

// activation resolves the condition variables lazily from a request and an
// optional verdict, so a condition that reads only request.tenant costs no
// map building.
type activation struct {
	req     Request
	v       *detect.Verdict
	scores  map[string]float64
	flagged []string
}

var _ interpreter.Activation = (*activation)(nil)

func (a *activation) ResolveName(name string) (any, bool) {
	switch name {
	case varRoute:
		return a.req.Route, true
	case varModel:
		return a.req.Model, true
	case varTenant:
		return a.req.Tenant, true
	case varStage:
		return string(stageOf(a.req.Stage)), true
	case varMetadata:
		if a.req.Metadata == nil {
			return map[string]string{}, true
		}
		return a.req.Metadata, true
	case varFlagged:
		if a.v == nil {
			return nil, false
		}
		return a.v.Flagged, true
	case varScores:
		if a.v == nil {
			return nil, false
		}
		if a.scores == nil {
			// Every category has a score (0 when the verdict has none),
			// so verdict.scores["cbrn_weapons"] never fails on a clean text.
			all := hazard.All()
			a.scores = make(map[string]float64, len(all))
			for _, info := range all {
				a.scores[string(info.ID)] = 0
			}
			for _, r := range a.v.Categories {
				a.scores[string(r.Category)] = r.Score
			}
		}
		return a.scores, true
	case varCategories:
		if a.v == nil {
			return nil, false
		}
		if a.flagged == nil {
			a.flagged = []string{}
			for _, r := range a.v.Categories {
				if r.Flagged {
					a.flagged = append(a.flagged, string(r.Category))
				}
			}
		}
		return a.flagged, true
	}
	return nil, false
}

func (a *activation) Parent() interpreter.Activation { return nil }

// eval runs the condition. A non-bool result or an evaluation error
// (missing map key, cost limit) is returned as an error.
func (c *condition) eval(a *activation) (bool, error) {
	out, _, err := c.prg.Eval(a)
	if err != nil {
		return false, fmt.Errorf("condition %q: %w", c.src, err)
	}
	b, ok := out.Value().(bool)
	if !ok {
		return false, fmt.Errorf("condition %q: result is %s, not bool", c.src, out.Type())
	}
	return b, nil
}
