// Package suite reads red-team test cases: Warden's own JSONL format
// ({prompt, category, expect}), the public formats of HarmBench, AdvBench,
// XSTest and JailbreakBench (CSV, detected from the header), and the small
// suites Warden ships per hazard category in English and Chinese, which
// include benign look-alikes to measure over-refusal.
package suite

import (
	"bufio"
	"bytes"
	"embed"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/warden-safety/warden/hazard"
)

// Expect says what a safe target should do with a case.
const (
	Refuse = "refuse" // a harmful request: compliance is an attack success
	Comply = "comply" // a benign request: refusal is over-refusal
)

// Case is one red-team prompt.
type Case struct {
	ID       string          `json:"id"`
	Prompt   string          `json:"prompt"`
	Category hazard.Category `json:"category,omitempty"`
	Expect   string          `json:"expect"`
	Lang     string          `json:"lang,omitempty"`
	Source   string          `json:"source,omitempty"`
}

// Suite is a named list of cases.
type Suite struct {
	Name  string
	Cases []Case
}

//go:embed builtin/*.jsonl
var builtinFS embed.FS

// BuiltinNames lists the built-in suites.
func BuiltinNames() []string {
	ents, _ := fs.ReadDir(builtinFS, "builtin")
	var out []string
	for _, e := range ents {
		out = append(out, strings.TrimSuffix(e.Name(), ".jsonl"))
	}
	sort.Strings(out)
	return out
}

// Builtin returns the named built-in suite; "all" returns every one.
func Builtin(name string) (*Suite, error) {
	if name == "all" {
		all := &Suite{Name: "builtin"}
		for _, n := range BuiltinNames() {
			s, err := Builtin(n)
			if err != nil {
				return nil, err
			}
			all.Cases = append(all.Cases, s.Cases...)
		}
		return all, nil
	}
	b, err := builtinFS.ReadFile("builtin/" + name + ".jsonl")
	if err != nil {
		return nil, fmt.Errorf("suite: no built-in suite %q (have: all, %s)", name, strings.Join(BuiltinNames(), ", "))
	}
	return ReadJSONL(name, bytes.NewReader(b))
}

// Load reads a suite: "builtin:NAME" for a built-in one, else a file whose
// format is told by its extension (.jsonl) or its CSV header.
func Load(spec string) (*Suite, error) {
	if n, ok := strings.CutPrefix(spec, "builtin:"); ok {
		return Builtin(n)
	}
	if spec == "builtin" {
		return Builtin("all")
	}
	f, err := os.Open(spec)
	if err != nil {
		return nil, fmt.Errorf("suite: %w", err)
	}
	defer f.Close()
	name := strings.TrimSuffix(path.Base(spec), path.Ext(spec))
	if strings.HasSuffix(spec, ".jsonl") || strings.HasSuffix(spec, ".json") {
		return ReadJSONL(name, f)
	}
	return ReadCSV(name, f)
}

// ReadJSONL reads Warden's format: one {prompt, category, expect} per
// line; category may be any name hazard.Parse accepts; expect defaults to
// "refuse". Errors name the line.
func ReadJSONL(name string, r io.Reader) (*Suite, error) {
	s := &Suite{Name: name}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 8<<20)
	n := 0
	for sc.Scan() {
		n++
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		var raw struct {
			ID       string `json:"id"`
			Prompt   string `json:"prompt"`
			Category string `json:"category"`
			Expect   string `json:"expect"`
			Lang     string `json:"lang"`
			Source   string `json:"source"`
		}
		if err := json.Unmarshal(line, &raw); err != nil {
			return nil, fmt.Errorf("suite %s: line %d: %v", name, n, err)
		}
		c, err := newCase(raw.ID, raw.Prompt, raw.Category, raw.Expect)
		if err != nil {
			return nil, fmt.Errorf("suite %s: line %d: %v", name, n, err)
		}
		c.Lang, c.Source = raw.Lang, raw.Source
		if c.ID == "" {
			c.ID = fmt.Sprintf("%s-%d", name, n)
		}
		if c.Source == "" {
			c.Source = name
		}
		s.Cases = append(s.Cases, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("suite %s: line %d: %w", name, n+1, err)
	}
	if len(s.Cases) == 0 {
		return nil, fmt.Errorf("suite %s: no cases", name)
	}
	return s, nil
}

func newCase(id, prompt, category, expect string) (Case, error) {
	c := Case{ID: id, Prompt: prompt, Expect: strings.ToLower(strings.TrimSpace(expect))}
	if strings.TrimSpace(prompt) == "" {
		return c, errors.New("empty prompt")
	}
	switch c.Expect {
	case "":
		c.Expect = Refuse
	case Refuse, Comply:
	default:
		return c, fmt.Errorf("expect %q: want \"refuse\" or \"comply\"", expect)
	}
	if category != "" {
		cat, err := parseCategory(category)
		if err != nil {
			return c, err
		}
		c.Category = cat
	}
	return c, nil
}

// publicCategories maps the category names of public benchmarks onto
// Warden's taxonomy.
var publicCategories = map[string]hazard.Category{
	// HarmBench SemanticCategory
	"chemical_biological": hazard.CBRNWeapons, "illegal": hazard.NonViolentCrimes,
	"misinformation_disinformation": hazard.Defamation, "harmful": hazard.ViolentCrimes,
	"harassment_bullying": hazard.Harassment, "cybercrime_intrusion": hazard.CyberAttacks,
	"copyright": hazard.IntellectualProperty,
	// JailbreakBench Category
	"harassment/discrimination": hazard.Hate, "malware/hacking": hazard.CyberAttacks,
	"physical harm": hazard.ViolentCrimes, "economic harm": hazard.NonViolentCrimes,
	"fraud/deception": hazard.NonViolentCrimes, "disinformation": hazard.Defamation,
	"sexual/adult content": hazard.SexualContent, "privacy": hazard.Privacy,
	"expert advice": hazard.SpecializedAdvice, "government decision-making": hazard.NonViolentCrimes,
	// XSTest types (benign and contrast prompts share a topic)
	"violent_death": hazard.ViolentCrimes, "real_group_nons_discr": hazard.Hate,
	"nons_group_real_discr": hazard.Hate, "contrast_discr": hazard.Hate,
	"privacy_public": hazard.Privacy, "privacy_fictional": hazard.Privacy, "contrast_privacy": hazard.Privacy,
}

func parseCategory(s string) (hazard.Category, error) {
	if c, err := hazard.Parse(s); err == nil {
		return c, nil
	}
	if c, ok := publicCategories[strings.ToLower(strings.TrimSpace(s))]; ok {
		return c, nil
	}
	return "", fmt.Errorf("unknown category %q", s)
}

// ReadCSV reads the public formats, recognised by their header:
//   - HarmBench: Behavior, SemanticCategory (ContextString is prepended)
//   - AdvBench: goal, target
//   - XSTest: prompt, type, label (safe => comply, unsafe => refuse); v2
//     files without label read "contrast_" types as unsafe
//   - JailbreakBench: Goal, Category (a file named *benign* => comply)
func ReadCSV(name string, r io.Reader) (*Suite, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("suite %s: reading CSV header: %w", name, err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	get := func(rec []string, key string) string {
		if i, ok := col[key]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var format string
	switch {
	case has(col, "behavior") && has(col, "semanticcategory"):
		format = "harmbench"
	case has(col, "goal") && has(col, "category"):
		format = "jailbreakbench"
	case has(col, "goal") && has(col, "target"):
		format = "advbench"
	case has(col, "prompt") && has(col, "type"):
		format = "xstest"
	case has(col, "prompt"):
		format = "generic"
	default:
		return nil, fmt.Errorf("suite %s: unrecognised CSV header %v (want HarmBench, AdvBench, XSTest or JailbreakBench columns, or a prompt column)", name, header)
	}
	s := &Suite{Name: name}
	line := 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			return nil, fmt.Errorf("suite %s: line %d: %w", name, line, err)
		}
		var c Case
		c.Source = format
		c.Expect = Refuse
		switch format {
		case "harmbench":
			c.Prompt = get(rec, "behavior")
			if ctx := get(rec, "contextstring"); ctx != "" {
				c.Prompt = ctx + "\n\n---\n\n" + c.Prompt
			}
			c.Category, _ = parseCategory(get(rec, "semanticcategory"))
			c.ID = get(rec, "behaviorid")
		case "jailbreakbench":
			c.Prompt = get(rec, "goal")
			c.Category, _ = parseCategory(get(rec, "category"))
			if strings.Contains(strings.ToLower(name), "benign") {
				c.Expect = Comply
			}
			c.ID = get(rec, "index")
		case "advbench":
			c.Prompt = get(rec, "goal")
		case "xstest":
			c.Prompt = get(rec, "prompt")
			typ := get(rec, "type")
			c.Category, _ = parseCategory(typ)
			switch strings.ToLower(get(rec, "label")) {
			case "safe":
				c.Expect = Comply
			case "unsafe":
				c.Expect = Refuse
			default:
				c.Expect = Comply
				if strings.HasPrefix(typ, "contrast_") {
					c.Expect = Refuse
				}
			}
			c.ID = get(rec, "id")
		case "generic":
			c.Prompt = get(rec, "prompt")
			if e := strings.ToLower(get(rec, "expect")); e == Comply {
				c.Expect = Comply
			}
			c.Category, _ = parseCategory(get(rec, "category"))
		}
		if c.Prompt == "" {
			continue
		}
		if c.ID == "" {
			c.ID = name + "-" + strconv.Itoa(line)
		} else {
			c.ID = name + "-" + c.ID
		}
		s.Cases = append(s.Cases, c)
	}
	if len(s.Cases) == 0 {
		return nil, fmt.Errorf("suite %s: no cases", name)
	}
	return s, nil
}

func has(m map[string]int, k string) bool { _, ok := m[k]; return ok }
