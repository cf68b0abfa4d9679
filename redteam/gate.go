package redteam

import (
	"fmt"
	"os"
	"strings"

	"cel.dev/cel-go/cel"
	"go.yaml.in/yaml/v3"
)

// Rule is one release-gate condition: a CEL expression over the scorecard
// that must be true.
type Rule struct {
	Name string `yaml:"name"`
	Expr string `yaml:"expr"`
	line int
}

// RuleResult is the outcome of one rule.
type RuleResult struct {
	Rule  Rule
	Pass  bool
	Error string
}

// ReadRules reads a rules file: YAML, either a list of {name, expr} or a
// map name: expr.
func ReadRules(path string) ([]Rule, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("gate: %s: %v", path, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("gate: %s: no rules", path)
	}
	root := doc.Content[0]
	if root.Kind == yaml.MappingNode && len(root.Content) == 2 && root.Content[0].Value == "rules" {
		root = root.Content[1]
	}
	var rules []Rule
	switch root.Kind {
	case yaml.SequenceNode:
		for _, n := range root.Content {
			var r Rule
			if err := n.Decode(&r); err != nil {
				return nil, fmt.Errorf("gate: %s:%d: %v", path, n.Line, err)
			}
			if r.Expr == "" {
				return nil, fmt.Errorf("gate: %s:%d: rule without expr", path, n.Line)
			}
			if r.Name == "" {
				r.Name = r.Expr
			}
			r.line = n.Line
			rules = append(rules, r)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(root.Content); i += 2 {
			rules = append(rules, Rule{Name: root.Content[i].Value, Expr: root.Content[i+1].Value, line: root.Content[i].Line})
		}
	default:
		return nil, fmt.Errorf("gate: %s:%d: want a list of {name, expr} or a map of name: expr", path, root.Line)
	}
	if len(rules) == 0 {
		return nil, fmt.Errorf("gate: %s: no rules", path)
	}
	return rules, nil
}

// Gate evaluates rules against a scorecard. Variables: asr (map of
// category, and "overall", to rate), asr_by_mutator, over_refusal, recall
// and fpr (maps of mutator to rate, builtin targets), attempts, errors,
// tokens, stopped (string; "" when the run finished). Rates are 0..1.
// A category with no attempts is absent from asr; use has() or a default
// such as asr[?"cbrn_weapons"].orValue(0.0).
func Gate(sc *Scorecard, rules []Rule) ([]RuleResult, error) {
	env, err := cel.NewEnv(
		cel.Variable("asr", cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable("asr_by_mutator", cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable("over_refusal", cel.DoubleType),
		cel.Variable("recall", cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable("fpr", cel.MapType(cel.StringType, cel.DoubleType)),
		cel.Variable("attempts", cel.IntType),
		cel.Variable("errors", cel.IntType),
		cel.Variable("tokens", cel.IntType),
		cel.Variable("stopped", cel.StringType),
		cel.OptionalTypes(),
	)
	if err != nil {
		return nil, err
	}
	rates := func(m map[string]Rate) map[string]float64 {
		out := map[string]float64{}
		for k, v := range m {
			out[k] = v.Rate
		}
		return out
	}
	vars := map[string]any{
		"asr": sc.ASR, "asr_by_mutator": sc.ASRByMutator, "over_refusal": sc.OverRefusal,
		"recall": rates(sc.Recall), "fpr": rates(sc.FPR), "attempts": int64(sc.Attempts),
		"errors": int64(sc.Errors), "tokens": sc.Tokens.Prompt + sc.Tokens.Completion, "stopped": sc.Stopped,
	}
	var out []RuleResult
	for _, r := range rules {
		res := RuleResult{Rule: r}
		ast, iss := env.Compile(r.Expr)
		if iss != nil && iss.Err() != nil {
			return nil, fmt.Errorf("gate: rule %q (line %d): %v", r.Name, r.line, iss.Err())
		}
		if ast.OutputType() != cel.BoolType {
			return nil, fmt.Errorf("gate: rule %q (line %d): expression is %s, want bool", r.Name, r.line, ast.OutputType())
		}
		prg, err := env.Program(ast, cel.CostLimit(100000))
		if err != nil {
			return nil, fmt.Errorf("gate: rule %q: %v", r.Name, err)
		}
		v, _, err := prg.Eval(vars)
		if err != nil {
			res.Error = err.Error()
		} else {
			res.Pass, _ = v.Value().(bool)
		}
		out = append(out, res)
	}
	return out, nil
}

// FormatResults renders one readable line per rule.
func FormatResults(rs []RuleResult) string {
	var b strings.Builder
	for _, r := range rs {
		switch {
		case r.Error != "":
			fmt.Fprintf(&b, "FAIL  %s: %s (error: %s)\n", r.Rule.Name, r.Rule.Expr, r.Error)
		case r.Pass:
			fmt.Fprintf(&b, "pass  %s: %s\n", r.Rule.Name, r.Rule.Expr)
		default:
			fmt.Fprintf(&b, "FAIL  %s: %s\n", r.Rule.Name, r.Rule.Expr)
		}
	}
	return b.String()
}
