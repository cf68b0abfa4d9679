package data

import (
	"bufio"
	"os"
	"regexp"
	"strings"

	"github.com/warden-safety/warden/hazard"
)

// readRefusalDirection reads the harmful splits and raw lists of
// andyrdt/refusal_direction. JailbreakBench rows have their own adapter.
func readRefusalDirection(root string) ([]Example, error) {
	var out []Example
	for _, f := range []string{"harmful_train.json", "harmful_test.json", "harmful_val.json"} {
		var rows []map[string]any
		if err := readJSON(p(root, "refusal_direction", f), &rows); err != nil {
			if f == "harmful_val.json" {
				continue // an empty file upstream
			}
			return nil, err
		}
		for _, r := range rows {
			out = append(out, unsafeEx(str(r, "instruction"), "en", jbbCategory(str(r, "category"), "")...))
		}
	}
	for _, f := range []string{"tdc2023_dev_behaviors.json", "tdc2023_test_behaviors.json"} {
		var rows []string
		if err := readJSON(p(root, "refusal_direction/raw", f), &rows); err != nil {
			return nil, err
		}
		for _, r := range rows {
			out = append(out, unsafeEx(r, "en"))
		}
	}
	fh, err := os.Open(p(root, "refusal_direction/raw/malicious_instruct.txt"))
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if t := strings.TrimSpace(sc.Text()); t != "" {
			out = append(out, unsafeEx(t, "en"))
		}
	}
	return out, sc.Err()
}

// jbbCategory maps a JailbreakBench category (and behaviour) to Warden's.
func jbbCategory(cat, behavior string) []hazard.Category {
	switch cat {
	case "Harassment/Discrimination":
		if behavior == "Defamation" {
			return []hazard.Category{cDefame}
		}
		return []hazard.Category{cHarass, cHate}
	case "Malware/Hacking":
		return []hazard.Category{cCyber}
	case "Physical harm":
		return []hazard.Category{cViolent}
	case "Economic harm", "Fraud/Deception":
		return []hazard.Category{cNonViol}
	case "Sexual/Adult content":
		return []hazard.Category{cSexual}
	case "Privacy":
		return []hazard.Category{cPrivacy}
	case "Expert advice":
		return []hazard.Category{cAdvice}
	}
	// Disinformation and government decision-making have no single Warden
	// category: unsafe, category unknown.
	return nil
}

// catqaCategory maps a CatQA category/subcategory. Tailored financial
// advice and political campaigning are ordinary requests under Warden's
// taxonomy and are skipped (ok=false).
func catqaCategory(cat, sub string) ([]hazard.Category, bool) {
	switch cat {
	case "Illegal Activity":
		switch sub {
		case "Weapon":
			return []hazard.Category{cNonViol, cViolent}, true
		case "Human Trafficking":
			return []hazard.Category{cSexCrime, cNonViol}, true
		case "Cybercrime":
			return []hazard.Category{cCyber}, true
		}
		return []hazard.Category{cNonViol}, true
	case "Child Abuse":
		if sub == "Content Sexual exploitation" || sub == "Online predation" {
			return []hazard.Category{cChild}, true
		}
		return []hazard.Category{cViolent}, true
	case "Hate/Harass/Violence":
		switch sub {
		case "Cyberbullying":
			return []hazard.Category{cHarass}, true
		case "Terrorism and extremism", "Gender-based violence":
			return []hazard.Category{cViolent}, true
		}
		return []hazard.Category{cHate}, true
	case "Malware Viruses":
		return []hazard.Category{cCyber}, true
	case "Physical Harm":
		switch sub {
		case "Self-harm":
			return []hazard.Category{cSelfHarm}, true
		case "Hazardous material handling", "Weapon making":
			return []hazard.Category{cCBRN, cViolent}, true
		case "Unsafe practices":
			return []hazard.Category{cAdvice}, true
		}
		return []hazard.Category{cViolent}, true
	case "Economic Harm", "Fraud/Deception":
		return []hazard.Category{cNonViol}, true
	case "Adult Content":
		return []hazard.Category{cSexual}, true
	case "Privacy Violation Activity":
		if sub == "Deepfake creation" {
			return []hazard.Category{cDeepfake}, true
		}
		return []hazard.Category{cPrivacy}, true
	}
	return nil, false
}

// aartCategory maps an AART crime topic. A handful of topics are not
// hazards in themselves (horse racing, smoking, landfills, climate change,
// circuses, gambling, pollution): those prompts are skipped.
func aartCategory(crime string) ([]hazard.Category, bool) {
	switch crime {
	case "horse racing", "smoking", "landfills", "climate change", "circuses", "gambling",
		"pollution", "air pollution", "alcohol abuse":
		return nil, false
	case "terrorism", "violence", "domestic violence", "assassinations", "kidnapping", "kidnappings",
		"assault", "murder", "hijackings", "acts of violence committed for political or ideological purposes",
		"animal neglect", "animal abuse", "animal cruelty", "cockfighting", "dog fighting", "arson", "robbery":
		return []hazard.Category{cViolent}, true
	case "bombings":
		return []hazard.Category{cViolent, cCBRN}, true
	case "hate crimes", "crimes motivated by race", "crimes motivated by disability", "crimes motivated by religion",
		"crimes motivated by gender identity", "crimes motivated by sexual orientation":
		return []hazard.Category{cHate, cViolent}, true
	case "sex trafficking", "rape", "prostitution", "child trafficking":
		return []hazard.Category{cSexCrime}, true
	case "pornography":
		return []hazard.Category{cSexual}, true
	case "cyberterrorism":
		return []hazard.Category{cCyber}, true
	}
	return []hazard.Category{cNonViol}, true
}

// multijailCategories maps MultiJail's harm tags (a Python list literal).
func multijailCategories(tags string) []hazard.Category {
	m := map[string]hazard.Category{
		"Violence & incitement": cViolent, "Discrimination & injustice": cHate,
		"Hate speech & offensive language": cHate, "Bullying & harassment": cHarass,
		"Theft": cNonViol, "Weapons": cNonViol, "Adult content": cSexual,
		"Substance abuse & banned substances": cNonViol, "Terrorism & organized crime": cViolent,
		"Fraud & deception": cNonViol, "Sexual exploitation & human trafficking": cSexCrime,
		"Animal abuse": cViolent, "Property crime & vandalism": cNonViol,
		"Soliciting personally identifiable information": cPrivacy, "Self-harm": cSelfHarm,
		"Child abuse": cChild,
	}
	var out []hazard.Category
	seen := map[hazard.Category]bool{}
	for _, t := range strings.Split(strings.Trim(tags, "[]"), "', ") {
		t = strings.Trim(strings.TrimSpace(t), "'\"")
		if c, ok := m[t]; ok && !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return out
}

// readDiaSafety reads DiaSafety's safe responses as negatives
// (conversational replies, many to upsetting user turns). Its unsafe labels
// judge a response in the context of the user's turn ("That's a good way to
// look at it" is unsafe after a self-harm statement); the gateway scores the
// response text, and a first model trained on them reached F1 0.20 on them
// while raising false positives elsewhere, so they are not used.
func readDiaSafety(root string) ([]Example, error) {
	var out []Example
	for _, f := range []string{"train.json", "val.json", "test.json"} {
		var rows []map[string]any
		if err := readJSON(p(root, "diasafety", f), &rows); err != nil {
			return nil, err
		}
		for _, r := range rows {
			t := str(r, "response")
			if str(r, "label") == "Safe" {
				out = append(out, safeEx(t, "en"))
				continue
			}
		}
	}
	return out, nil
}

// readHateCheck reads HateCheck-style functional tests (English and the
// Mandarin MHC file share the columns test_case and label_gold).
func readHateCheck(path, col, lang string) ([]Example, error) {
	rows, err := readCSV(path)
	var out []Example
	for _, r := range rows {
		t := strings.TrimSpace(r[col])
		if r["label_gold"] == "hateful" {
			c := []hazard.Category{cHate}
			if strings.HasPrefix(r["functionality"], "threat_") {
				c = append(c, cViolent)
			}
			out = append(out, unsafeEx(t, lang, c...))
		} else {
			out = append(out, safeEx(t, lang))
		}
	}
	return out, err
}

var (
	reMention = regexp.MustCompile(`@[A-Za-z0-9_]+:?|\[USER\]|\[URL\]|@URL|https?://\S+|&amp;|&#[0-9]+;|\bRT\b`)
	reSpaces  = regexp.MustCompile(`\s+`)
)

// stripSocial removes social-media artefacts (user handles, URLs,
// retweet markers, HTML entities) that only some hate-speech sources carry,
// so the model cannot learn "has an @mention" as a hate signal.
func stripSocial(s string) string {
	s = reMention.ReplaceAllString(s, " ")
	return strings.TrimSpace(reSpaces.ReplaceAllString(s, " "))
}

// readRTPLX reads the human-scored RTP-LX prompts and GPT-4 completions in
// English and Chinese. Scores are means of three raters: Toxicity 1–5,
// the others 1–3 (1 = none). A text is unsafe when a category mean reaches
// 2 (Toxicity 3); safe when Toxicity is below 1.5 and no category
// reaches 1.5; anything between is left out. The human-written benign
// completions are safe.
func readRTPLX(root string) ([]Example, error) {
	var out []Example
	for _, loc := range []string{"EN", "ZH-Hans", "ZH-Hant"} {
		lang := "zh"
		if loc == "EN" {
			lang = "en"
		}
		for _, kind := range []string{"prompts", "completions"} {
			rows, err := readJSONL(p(root, "rtp_lx", "rtplx_"+loc+"_"+kind+".jsonl"))
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				t := str(r, "text")
				if str(r, "kind") == "benign_completion_human" {
					out = append(out, safeEx(t, lang))
					continue
				}
				m, _ := r["annotations_mean"].(map[string]any)
				if m == nil {
					continue
				}
				var c []hazard.Category
				if num(m, "SexualContent") >= 2 {
					c = append(c, cSexual)
				}
				if num(m, "SelfHarm") >= 2 {
					c = append(c, cSelfHarm)
				}
				if num(m, "Violence") >= 2 {
					c = append(c, cViolent)
				}
				if num(m, "IdentityAttack") >= 2 {
					c = append(c, cHate)
				}
				if num(m, "Insult") >= 2 {
					c = append(c, cHarass)
				}
				tox := num(m, "Toxicity")
				switch {
				case len(c) > 0:
					out = append(out, unsafeEx(t, lang, c...))
				case tox >= 3:
					out = append(out, unsafeEx(t, lang, cHarass))
				case tox < 1.5 && num(m, "SexualContent") < 1.5 && num(m, "Violence") < 1.5 &&
					num(m, "IdentityAttack") < 1.5 && num(m, "Insult") < 1.5 && num(m, "SelfHarm") < 1.5:
					out = append(out, safeEx(t, lang))
				}
			}
		}
	}
	return out, nil
}

// readPsySuicide reads PsySUICIDE (Chinese counselling texts). Suicide and
// self-harm classes are self_harm; aggression by the user is harassment;
// "unrelated" is safe. Aggression by others (the writer is the victim) and
// questions about suicide are left out: neither label fits them cleanly.
func readPsySuicide(root string) ([]Example, error) {
	selfHarm := map[string]bool{"自杀未遂": true, "自杀准备行为": true, "自杀计划": true, "主动自杀意图": true,
		"被动自杀意图": true, "自伤行为": true, "自伤意图": true}
	var out []Example
	for _, f := range []string{"valid.json", "test.json"} {
		var rows []struct {
			Text   string   `json:"text"`
			Labels []string `json:"labels"`
		}
		if err := readJSON(p(root, "psysuicide_zh", f), &rows); err != nil {
			return nil, err
		}
		for _, r := range rows {
			var c []hazard.Category
			skip, unrelated := false, false
			for _, l := range r.Labels {
				switch {
				case selfHarm[l]:
					c = append(c, cSelfHarm)
				case l == "用户攻击行为":
					c = append(c, cHarass)
				case l == "与自杀/自伤/攻击行为无关":
					unrelated = true
				default:
					skip = true
				}
			}
			switch {
			case len(c) > 0:
				out = append(out, unsafeEx(r.Text, "zh", dedupeCats(c)...))
			case unrelated && !skip:
				out = append(out, safeEx(r.Text, "zh"))
			}
		}
	}
	return out, nil
}

func dedupeCats(c []hazard.Category) []hazard.Category {
	var out []hazard.Category
	seen := map[hazard.Category]bool{}
	for _, x := range c {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
