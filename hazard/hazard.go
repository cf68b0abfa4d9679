// Package hazard is Warden's one taxonomy of hazards: every detector, policy,
// audit record, evaluation and report names categories from the table here.
//
// The categories are the MLCommons hazards as Llama Guard 3 names them (S1
// violent crimes … S14 code interpreter abuse) plus Warden's own: harassment,
// prompt injection, PII, secrets, deepfakes and impersonation, cyber attacks
// and, beneath them, attacks on critical infrastructure. Each category maps to
// Llama Guard S-codes and to the categories of OpenAI's moderation API, so a
// verdict can be reported in either vocabulary and labelled data in either
// vocabulary can be read.
package hazard

import (
	"fmt"
	"sort"
	"strings"
)

// Category is the stable identifier of a hazard category, such as
// "cbrn_weapons". It is what configuration files, audit records and JSON
// output carry.
type Category string

// The categories. The order of the table (All) is the order reports use.
const (
	ViolentCrimes           Category = "violent_crimes"
	NonViolentCrimes        Category = "nonviolent_crimes"
	SexCrimes               Category = "sex_crimes"
	ChildSexualExploitation Category = "child_sexual_exploitation"
	Defamation              Category = "defamation"
	SpecializedAdvice       Category = "specialized_advice"
	Privacy                 Category = "privacy"
	IntellectualProperty    Category = "intellectual_property"
	CBRNWeapons             Category = "cbrn_weapons"
	Hate                    Category = "hate"
	SelfHarm                Category = "self_harm"
	SexualContent           Category = "sexual_content"
	Elections               Category = "elections"
	CodeInterpreterAbuse    Category = "code_interpreter_abuse"

	Harassment             Category = "harassment"
	CyberAttacks           Category = "cyber_attacks"
	CriticalInfrastructure Category = "critical_infrastructure"
	DeepfakeImpersonation  Category = "deepfake_impersonation"
	PromptInjection        Category = "prompt_injection"
	PII                    Category = "pii"
	Secrets                Category = "secrets"
)

// OpenAI moderation categories, exactly as the moderation API spells them.
const (
	OAIHarassment            = "harassment"
	OAIHarassmentThreatening = "harassment/threatening"
	OAIHate                  = "hate"
	OAIHateThreatening       = "hate/threatening"
	OAIIllicit               = "illicit"
	OAIIllicitViolent        = "illicit/violent"
	OAISelfHarm              = "self-harm"
	OAISelfHarmIntent        = "self-harm/intent"
	OAISelfHarmInstructions  = "self-harm/instructions"
	OAISexual                = "sexual"
	OAISexualMinors          = "sexual/minors"
	OAIViolence              = "violence"
	OAIViolenceGraphic       = "violence/graphic"
)

// OpenAICategories lists the OpenAI moderation categories in the order the API
// documents them.
var OpenAICategories = []string{
	OAIHarassment, OAIHarassmentThreatening, OAIHate, OAIHateThreatening,
	OAIIllicit, OAIIllicitViolent, OAISelfHarm, OAISelfHarmIntent,
	OAISelfHarmInstructions, OAISexual, OAISexualMinors, OAIViolence,
	OAIViolenceGraphic,
}

// Info describes one category.
type Info struct {
	ID          Category `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description"`
	// Parent is the broader category this one refines ("" for top level).
	// A finding in a sub-category also counts towards its parent.
	Parent Category `json:"parent,omitempty"`
	// LlamaGuard lists the Llama Guard 3/4 S-codes this category corresponds to.
	LlamaGuard []string `json:"llama_guard,omitempty"`
	// OpenAI lists the OpenAI moderation categories a finding in this
	// category is reported under.
	OpenAI []string `json:"openai,omitempty"`
	// Severe marks the categories the built-in default policy blocks outright.
	Severe bool `json:"severe"`
	// Content is true for harms in what text says (as opposed to PII and
	// secrets, which are data-leak categories, and prompt injection, which is
	// an attack on the model).
	Content bool `json:"content"`
}

var table = []Info{
	{ID: ViolentCrimes, Name: "Violent crimes", LlamaGuard: []string{"S1"}, OpenAI: []string{OAIViolence, OAIIllicitViolent}, Content: true,
		Description: "Enables, encourages or endorses violence against people or animals: terrorism, murder, assault, kidnapping, threats, graphic violence."},
	{ID: NonViolentCrimes, Name: "Non-violent crimes", LlamaGuard: []string{"S2"}, OpenAI: []string{OAIIllicit}, Content: true,
		Description: "Enables fraud, scams, theft, money laundering, drug production and trafficking, weapons trafficking, and other crimes without direct violence."},
	{ID: SexCrimes, Name: "Sex-related crimes", LlamaGuard: []string{"S3"}, OpenAI: []string{OAIIllicitViolent, OAISexual}, Content: true, Severe: true,
		Description: "Enables sex trafficking, sexual assault, sexual harassment or non-consensual intimate imagery."},
	{ID: ChildSexualExploitation, Name: "Child sexual exploitation", LlamaGuard: []string{"S4"}, OpenAI: []string{OAISexualMinors}, Content: true, Severe: true,
		Description: "Sexual content involving minors, grooming, or anything that enables the sexual abuse of children."},
	{ID: Defamation, Name: "Defamation", LlamaGuard: []string{"S5"}, OpenAI: []string{OAIHarassment}, Content: true,
		Description: "Verifiably false statements that injure the reputation of a real, living person."},
	{ID: SpecializedAdvice, Name: "Specialized advice", LlamaGuard: []string{"S6"}, Content: true,
		Description: "Unqualified financial, medical or legal advice presented as authoritative, or dangerous physical-safety advice."},
	{ID: Privacy, Name: "Privacy", LlamaGuard: []string{"S7"}, Content: true,
		Description: "Requests for or disclosure of sensitive non-public information about a person: doxxing, tracking, surveillance."},
	{ID: IntellectualProperty, Name: "Intellectual property", LlamaGuard: []string{"S8"}, Content: true,
		Description: "Enables violation of copyrights, trademarks or patents, such as reproducing protected works at length."},
	{ID: CBRNWeapons, Name: "CBRN and explosive weapons", LlamaGuard: []string{"S9"}, OpenAI: []string{OAIIllicitViolent, OAIViolence}, Content: true, Severe: true,
		Description: "Enables chemical, biological, radiological, nuclear or high-yield explosive weapons: synthesis, acquisition, enhancement, deployment."},
	{ID: Hate, Name: "Hate", LlamaGuard: []string{"S10"}, OpenAI: []string{OAIHate}, Content: true,
		Description: "Demeans or dehumanizes people for protected characteristics: race, ethnicity, religion, nationality, gender, sexual orientation, disability."},
	{ID: SelfHarm, Name: "Suicide and self-harm", LlamaGuard: []string{"S11"}, OpenAI: []string{OAISelfHarm, OAISelfHarmIntent, OAISelfHarmInstructions}, Content: true,
		Description: "Enables, encourages or expresses intent of suicide, self-injury or disordered eating."},
	{ID: SexualContent, Name: "Sexual content", LlamaGuard: []string{"S12"}, OpenAI: []string{OAISexual}, Content: true,
		Description: "Sexually explicit content or erotica between adults."},
	{ID: Elections, Name: "Elections", LlamaGuard: []string{"S13"}, Content: true,
		Description: "Factually wrong information about electoral systems and processes: when, where or how to vote."},
	{ID: CodeInterpreterAbuse, Name: "Code interpreter abuse", LlamaGuard: []string{"S14"}, OpenAI: []string{OAIIllicit}, Content: true,
		Description: "Abuses a code interpreter: denial of service, container escape, privilege escalation."},
	{ID: Harassment, Name: "Harassment", LlamaGuard: []string{"S10"}, OpenAI: []string{OAIHarassment, OAIHarassmentThreatening}, Content: true,
		Description: "Insults, bullying, threats or intimidation aimed at an individual."},
	{ID: CyberAttacks, Name: "Cyber attacks", LlamaGuard: []string{"S2", "S14"}, OpenAI: []string{OAIIllicit}, Content: true,
		Description: "Enables intrusion, malware, ransomware, credential theft or denial of service against systems the user does not own."},
	{ID: CriticalInfrastructure, Name: "Attacks on critical infrastructure", Parent: CyberAttacks, LlamaGuard: []string{"S1", "S2", "S9"}, OpenAI: []string{OAIIllicitViolent, OAIIllicit}, Content: true, Severe: true,
		Description: "Enables attacks on power grids, water and wastewater, hospitals, or industrial control systems (SCADA, PLCs)."},
	{ID: DeepfakeImpersonation, Name: "Deepfakes and impersonation", LlamaGuard: []string{"S2", "S5"}, OpenAI: []string{OAIIllicit}, Content: true,
		Description: "Deceptive synthetic media or voice of a real person, or impersonating a real person or organization to deceive."},
	{ID: PromptInjection, Name: "Prompt injection and jailbreak",
		Description: "Text that tries to override the model's instructions, extract its system prompt, or bypass its safety training, directly or hidden in tool results and documents."},
	{ID: PII, Name: "Personal data", LlamaGuard: []string{"S7"},
		Description: "Personally identifiable information: email addresses, phone numbers, payment cards, IBANs, national identity numbers, IP addresses."},
	{ID: Secrets, Name: "Secrets",
		Description: "Credentials: API keys and tokens, private keys, JWTs."},
}

var byID = func() map[Category]*Info {
	m := make(map[Category]*Info, len(table))
	for i := range table {
		m[table[i].ID] = &table[i]
	}
	return m
}()

var indexOf = func() map[Category]int {
	m := make(map[Category]int, len(table))
	for i := range table {
		m[table[i].ID] = i
	}
	return m
}()

// Count is the number of categories.
var Count = len(table)

// Index returns c's position in All(), or -1 when c is not a category.
func Index(c Category) int {
	if i, ok := indexOf[c]; ok {
		return i
	}
	return -1
}

// All returns the table, in report order. The caller must not modify it.
func All() []Info { return table }

// IDs returns every category identifier, in report order.
func IDs() []Category {
	ids := make([]Category, len(table))
	for i, c := range table {
		ids[i] = c.ID
	}
	return ids
}

// Lookup returns the description of id.
func Lookup(id Category) (Info, bool) {
	p, ok := byID[id]
	if !ok {
		return Info{}, false
	}
	return *p, true
}

// Valid reports whether id names a category.
func (c Category) Valid() bool { _, ok := byID[c]; return ok }

// Ancestors returns c's parent chain, nearest first.
func (c Category) Ancestors() []Category {
	var out []Category
	for p := byID[c]; p != nil && p.Parent != ""; p = byID[p.Parent] {
		out = append(out, p.Parent)
	}
	return out
}

// Severe reports whether c is one of the severe categories.
func (c Category) Severe() bool { p := byID[c]; return p != nil && p.Severe }

// fromOpenAI maps an OpenAI moderation category to the Warden category that
// best represents it when reading labelled data.
var fromOpenAI = map[string]Category{
	OAIHarassment:            Harassment,
	OAIHarassmentThreatening: Harassment,
	OAIHate:                  Hate,
	OAIHateThreatening:       Hate,
	OAIIllicit:               NonViolentCrimes,
	OAIIllicitViolent:        ViolentCrimes,
	OAISelfHarm:              SelfHarm,
	OAISelfHarmIntent:        SelfHarm,
	OAISelfHarmInstructions:  SelfHarm,
	OAISexual:                SexualContent,
	OAISexualMinors:          ChildSexualExploitation,
	OAIViolence:              ViolentCrimes,
	OAIViolenceGraphic:       ViolentCrimes,
}

// fromLlamaGuard maps a Llama Guard S-code to the Warden category it names.
var fromLlamaGuard = map[string]Category{
	"S1": ViolentCrimes, "S2": NonViolentCrimes, "S3": SexCrimes,
	"S4": ChildSexualExploitation, "S5": Defamation, "S6": SpecializedAdvice,
	"S7": Privacy, "S8": IntellectualProperty, "S9": CBRNWeapons, "S10": Hate,
	"S11": SelfHarm, "S12": SexualContent, "S13": Elections,
	"S14": CodeInterpreterAbuse,
}

// FromLlamaGuard returns the category for a Llama Guard S-code ("S9").
func FromLlamaGuard(code string) (Category, bool) {
	c, ok := fromLlamaGuard[strings.ToUpper(strings.TrimSpace(code))]
	return c, ok
}

// FromOpenAI returns the category an OpenAI moderation category is read as.
func FromOpenAI(name string) (Category, bool) {
	c, ok := fromOpenAI[strings.ToLower(strings.TrimSpace(name))]
	return c, ok
}

// aliases are other spellings accepted by Parse.
var aliases = map[string]Category{
	"violence": ViolentCrimes, "crime": NonViolentCrimes, "crimes": NonViolentCrimes,
	"csam": ChildSexualExploitation, "cse": ChildSexualExploitation, "csae": ChildSexualExploitation,
	"cbrn": CBRNWeapons, "cbrne": CBRNWeapons, "weapons": CBRNWeapons,
	"self-harm": SelfHarm, "selfharm": SelfHarm, "suicide": SelfHarm,
	"sexual": SexualContent, "jailbreak": PromptInjection, "injection": PromptInjection,
	"cyber": CyberAttacks, "cyber_attack": CyberAttacks, "malware": CyberAttacks,
	// The labels of OpenAI's moderation evaluation set (Markov et al., 2023:
	// S sexual, H hate, V violence, HR harassment, SH self-harm, H2
	// hate/threatening, V2 violence/graphic). Its S3 (sexual/minors) is
	// read as Llama Guard's S3, sex crimes, which Parse tries first.
	"s": SexualContent, "h": Hate, "v": ViolentCrimes, "hr": Harassment, "sh": SelfHarm,
	"h2": Hate, "v2": ViolentCrimes,
	// Llama Guard's hazard names (MLCommons) that are not Warden IDs once
	// spaces and hyphens read as underscores.
	"non-violent crimes": NonViolentCrimes, "sex-related crimes": SexCrimes,
	"indiscriminate weapons": CBRNWeapons, "suicide & self-harm": SelfHarm,
	"infrastructure": CriticalInfrastructure, "deepfake": DeepfakeImpersonation,
	"impersonation": DeepfakeImpersonation, "secret": Secrets,
}

// Parse reads a category name in any vocabulary Warden understands: its own
// IDs, Llama Guard S-codes ("S9"), OpenAI moderation names ("self-harm/intent")
// and a few common aliases. Matching ignores case and surrounding space;
// "-" and " " are read as "_" for Warden IDs.
func Parse(name string) (Category, error) {
	s := strings.ToLower(strings.TrimSpace(name))
	if s == "" {
		return "", fmt.Errorf("hazard: empty category name")
	}
	if c := Category(strings.NewReplacer("-", "_", " ", "_").Replace(s)); c.Valid() {
		return c, nil
	}
	if c, ok := fromOpenAI[s]; ok {
		return c, nil
	}
	if c, ok := FromLlamaGuard(s); ok {
		return c, nil
	}
	if c, ok := aliases[s]; ok {
		return c, nil
	}
	return "", fmt.Errorf("hazard: unknown category %q (want one of %s, a Llama Guard S-code, or an OpenAI moderation category)", name, strings.Join(idStrings(), ", "))
}

func idStrings() []string {
	out := make([]string, len(table))
	for i, c := range table {
		out[i] = string(c.ID)
	}
	sort.Strings(out)
	return out
}
