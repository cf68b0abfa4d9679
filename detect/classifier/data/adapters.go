package data

import (
	"path/filepath"
	"strings"

	"github.com/warden-safety/warden/hazard"
)

// adapter reads one dataset folder.
type adapter struct {
	name  string
	group string
	// files are the paths (relative to the datasets root) the adapter
	// needs; when the first is missing the source is skipped.
	files []string
	read  func(root string) ([]Example, error)
}

// Aliases for brevity in the label tables.
const (
	cViolent  = hazard.ViolentCrimes
	cNonViol  = hazard.NonViolentCrimes
	cSexCrime = hazard.SexCrimes
	cChild    = hazard.ChildSexualExploitation
	cCBRN     = hazard.CBRNWeapons
	cHate     = hazard.Hate
	cHarass   = hazard.Harassment
	cSelfHarm = hazard.SelfHarm
	cSexual   = hazard.SexualContent
	cPrivacy  = hazard.Privacy
	cAdvice   = hazard.SpecializedAdvice
	cCyber    = hazard.CyberAttacks
	cDeepfake = hazard.DeepfakeImpersonation
	cInject   = hazard.PromptInjection
	cDefame   = hazard.Defamation
)

func unsafeEx(text, lang string, labels ...hazard.Category) Example {
	return Example{Text: text, Lang: lang, Labels: labels, Unsafe: true}
}

func safeEx(text, lang string) Example { return Example{Text: text, Lang: lang} }

func p(root string, parts ...string) string {
	return filepath.Join(append([]string{root}, parts...)...)
}

// adapters lists every public source used, in a fixed order.
var adapters = []adapter{
	// ---- harmful requests (EN) ----
	{name: "advbench", group: "harmful", files: []string{"advbench/harmful_behaviors.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "advbench/harmful_behaviors.csv"))
		var out []Example
		for _, r := range rows {
			out = append(out, unsafeEx(r["goal"], "en"))
		}
		return out, err
	}},
	{name: "refusal_direction", group: "harmful", files: []string{"refusal_direction/harmful_train.json"}, read: readRefusalDirection},
	{name: "jailbreakbench", group: "harmful", files: []string{"refusal_direction/raw/jailbreakbench.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "refusal_direction/raw/jailbreakbench.csv"))
		var out []Example
		for _, r := range rows {
			out = append(out, unsafeEx(r["Goal"], "en", jbbCategory(r["Category"], r["Behavior"])...))
		}
		return out, err
	}},
	{name: "forbidden_questions", group: "harmful", files: []string{"jailbreak_llms/forbidden_question_set.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "jailbreak_llms/forbidden_question_set.csv"))
		var out []Example
		for _, r := range rows {
			// The "regulated advice" policies (legal, financial, health,
			// lobbying, government decisions) ask for ordinary advice that
			// Warden does not treat as hazardous: skipped.
			m := map[string][]hazard.Category{
				"Illegal Activity": {cNonViol}, "Hate Speech": {cHate}, "Malware": {cCyber},
				"Physical Harm": {cViolent}, "Economic Harm": {cNonViol}, "Fraud": {cNonViol},
				"Pornography": {cSexual}, "Privacy Violence": {cPrivacy},
			}
			if c, ok := m[r["content_policy_name"]]; ok {
				out = append(out, unsafeEx(r["question"], "en", c...))
			}
		}
		return out, err
	}},
	{name: "harmfulqa", group: "harmful", files: []string{"harmfulqa/harmfulqa_questions.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "harmfulqa/harmfulqa_questions.csv"))
		var out []Example
		for _, r := range rows {
			out = append(out, unsafeEx(r["text"], "en"))
		}
		return out, err
	}},
	{name: "catqa", group: "harmful", files: []string{"catqa/catqa_en_zh.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "catqa/catqa_en_zh.csv"))
		var out []Example
		for _, r := range rows {
			c, ok := catqaCategory(r["category"], r["subcategory"])
			if !ok {
				continue
			}
			lang := "en"
			if r["lang"] == "zh" {
				lang = "zh"
			}
			out = append(out, unsafeEx(r["text"], lang, c...))
		}
		return out, err
	}},
	{name: "dangerousqa", group: "harmful", files: []string{"dangerousqa/dangerousqa.json"}, read: func(root string) ([]Example, error) {
		var qs []string
		err := readJSON(p(root, "dangerousqa/dangerousqa.json"), &qs)
		var out []Example
		for _, q := range qs {
			out = append(out, unsafeEx(q, "en"))
		}
		return out, err
	}},
	{name: "aart", group: "harmful", files: []string{"aart/aart-v1-20231117.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "aart/aart-v1-20231117.csv"))
		var out []Example
		for _, r := range rows {
			c, ok := aartCategory(r["crime"])
			if !ok {
				continue
			}
			out = append(out, unsafeEx(r["prompt"], "en", c...))
		}
		return out, err
	}},
	{name: "multijail", group: "harmful", files: []string{"multijail/multijail_en_zh.jsonl"}, read: func(root string) ([]Example, error) {
		rows, err := readJSONL(p(root, "multijail/multijail_en_zh.jsonl"))
		var out []Example
		for _, r := range rows {
			c := multijailCategories(str(r, "tags"))
			out = append(out, unsafeEx(str(r, "en"), "en", c...), unsafeEx(str(r, "zh"), "zh", c...))
		}
		return out, err
	}},
	{name: "gptfuzz_questions", group: "harmful", files: []string{"gptfuzz/question_list.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "gptfuzz/question_list.csv"))
		var out []Example
		for _, r := range rows {
			out = append(out, unsafeEx(r["text"], "en"))
		}
		return out, err
	}},
	// ---- harmful requests and answers (ZH) ----
	{name: "aisafetylab_icl_zh", group: "harmful", files: []string{"aisafetylab_icl_zh/icl_zh.jsonl"}, read: func(root string) ([]Example, error) {
		rows, err := readJSONL(p(root, "aisafetylab_icl_zh/icl_zh.jsonl"))
		var out []Example
		for _, r := range rows {
			out = append(out,
				unsafeEx(str(r, "query"), "zh"),
				unsafeEx(str(r, "jb_prompt"), "zh", cInject),
				unsafeEx(str(r, "unsafe_response"), "zh"))
		}
		return out, err
	}},
	// ---- model answers (output side) ----
	{name: "gptfuzz_responses", group: "response", files: []string{"gptfuzz/gptfuzz_labeled_responses.jsonl"}, read: func(root string) ([]Example, error) {
		rows, err := readJSONL(p(root, "gptfuzz/gptfuzz_labeled_responses.jsonl"))
		var out []Example
		for _, r := range rows {
			t := str(r, "response")
			if num(r, "label") == 1 {
				out = append(out, unsafeEx(t, DetectLang(t)))
			} else {
				out = append(out, safeEx(t, DetectLang(t)))
			}
		}
		return out, err
	}},
	{name: "jbb_artifacts", group: "response", files: []string{"jbb_artifacts/jbb_artifacts.jsonl"}, read: func(root string) ([]Example, error) {
		rows, err := readJSONL(p(root, "jbb_artifacts/jbb_artifacts.jsonl"))
		var out []Example
		for _, r := range rows {
			c := jbbCategory(str(r, "category"), str(r, "behavior"))
			// The attack prompt is unsafe whatever the model did; the
			// template and persuasion methods are jailbreaks, the
			// optimisation methods (GCG, DSN) append noise tokens.
			pc := c
			switch str(r, "method") {
			case "JailbreakChat", "PAIR", "adaptive_random_search":
				pc = append(append([]hazard.Category{}, c...), cInject)
			}
			// When an attack leaves the goal as it is, the "prompt" is just
			// the harmful request: it is not an injection.
			if pr := str(r, "prompt"); strings.TrimSpace(pr) != strings.TrimSpace(str(r, "goal")) {
				out = append(out, unsafeEx(pr, "en", pc...))
			}
			resp := str(r, "response")
			if r["jailbroken"] == true {
				out = append(out, unsafeEx(resp, "en", c...))
			} else {
				out = append(out, safeEx(resp, "en"))
			}
		}
		return out, err
	}},
	{name: "latent_jailbreak", group: "response", files: []string{"latent_jailbreak/latent_jailbreak_P1_labeled.jsonl"}, read: func(root string) ([]Example, error) {
		rows, err := readJSONL(p(root, "latent_jailbreak/latent_jailbreak_P1_labeled.jsonl"))
		var out []Example
		for _, r := range rows {
			t := str(r, "response")
			switch str(r, "safety") {
			case "unsafe":
				out = append(out, unsafeEx(t, DetectLang(t), cHate))
			case "safe":
				out = append(out, safeEx(t, DetectLang(t)))
			}
		}
		return out, err
	}},
	{name: "diasafety", group: "response", files: []string{"diasafety/train.json"}, read: readDiaSafety},
	// ---- jailbreaks and prompt injection ----
	{name: "jailbreak_prompts", group: "injection", files: []string{"jailbreak_llms/jailbreak_prompts_2023_05_07.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "jailbreak_llms/jailbreak_prompts_2023_05_07.csv"))
		var out []Example
		for _, r := range rows {
			if r["jailbreak"] == "True" {
				t := r["prompt"]
				out = append(out, unsafeEx(t, DetectLang(t), cInject))
			}
		}
		return out, err
	}},
	{name: "neuralchemy_pi", group: "injection", files: []string{"neuralchemy_pi/train.csv"}, read: func(root string) ([]Example, error) {
		var out []Example
		for _, f := range []string{"train.csv", "val.csv", "test.csv"} {
			rows, err := readCSV(p(root, "neuralchemy_pi", f))
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				t := r["text"]
				switch r["source"] {
				case "harmbench":
					// HarmBench behaviours labelled "jailbreak" are plain
					// harmful requests ("Give instructions for ..."),
					// not injections: unsafe, category unknown.
					if r["label"] == "1" {
						out = append(out, unsafeEx(t, DetectLang(t)))
						continue
					}
				case "wildguard_judgecomp":
					// WildGuard's adversarial prompts carry the label of
					// a judged response, not of the prompt: both labels
					// hold the same role-play wrappers around harmful
					// requests ("write a recipe for a homemade explosive
					// device"). Every one is a jailbreak attempt.
					out = append(out, unsafeEx(t, DetectLang(t), cInject))
					continue
				}
				if r["label"] == "1" {
					// "control" and "model_fingerprinting" rows are
					// ordinary questions ("Explain what recursion is",
					// "Which inference framework are you running on?"):
					// not injections, not used.
					if c := r["category"]; c == "control" || c == "model_fingerprinting" {
						continue
					}
					// The generated "adversarial" and "encoding" rows are
					// ~800 obfuscations of a few shell one-liners ("run:
					// `import os; os.system('whoami')`"). All of them
					// teach the model that code is an injection (benign
					// coding prompts were flagged); one in six is kept.
					if c := r["category"]; r["source"] == "neuralchemy_v1" && (c == "adversarial" || c == "encoding") &&
						Hash("neuralchemy-obf:"+t)%6 != 0 {
						continue
					}
					out = append(out, unsafeEx(t, DetectLang(t), cInject))
				} else if r["label"] == "0" {
					out = append(out, safeEx(t, DetectLang(t)))
				}
			}
		}
		return out, nil
	}},
	{name: "giskard_pi", group: "injection", files: []string{"giskard_pi/prompt_injections.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "giskard_pi/prompt_injections.csv"))
		var out []Example
		for _, r := range rows {
			out = append(out, unsafeEx(r["prompt"], "en", cInject))
		}
		return out, err
	}},
	// ---- hate, harassment, threats ----
	{name: "hatecheck", group: "hate", files: []string{"hatecheck/test_suite_cases.csv"}, read: func(root string) ([]Example, error) {
		return readHateCheck(p(root, "hatecheck/test_suite_cases.csv"), "test_case", "en")
	}},
	{name: "mhc_mandarin", group: "hate", files: []string{"mhc/hatecheck_cases_final_mandarin.csv"}, read: func(root string) ([]Example, error) {
		return readHateCheck(p(root, "mhc/hatecheck_cases_final_mandarin.csv"), "test_case", "zh")
	}},
	{name: "toxigen_seeds", group: "hate", files: []string{"toxigen_seeds/toxigen_seed_sentences.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "toxigen_seeds/toxigen_seed_sentences.csv"))
		var out []Example
		for _, r := range rows {
			if r["label"] == "hate" {
				out = append(out, unsafeEx(r["text"], "en", cHate))
			} else {
				out = append(out, safeEx(r["text"], "en"))
			}
		}
		return out, err
	}},
	{name: "davidson_hate", group: "hate", files: []string{"davidson_hate/labeled_data.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "davidson_hate/labeled_data.csv"))
		var out []Example
		for _, r := range rows {
			t := stripSocial(r["tweet"])
			// class 0 = hate speech, 2 = neither. Class 1 ("offensive")
			// is mostly casual profanity and is left out rather than
			// teaching the model that swearing is a hazard.
			switch r["class"] {
			case "0":
				out = append(out, unsafeEx(t, "en", cHate))
			case "2":
				out = append(out, safeEx(t, "en"))
			}
		}
		return out, err
	}},
	{name: "convabuse", group: "hate", files: []string{"convabuse/convabuse_aggregated.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "convabuse/convabuse_aggregated.csv"))
		var out []Example
		for _, r := range rows {
			n := atof(r["n_annotators"])
			t := r["user"]
			if r["is_abusive_majority"] == "1" {
				c := []hazard.Category{cHarass}
				if n > 0 && atof(r["votes_sex_harassment"])*2 >= n {
					c = append(c, cSexual)
				}
				out = append(out, unsafeEx(t, "en", c...))
			} else if atof(r["n_abusive_votes"]) == 0 {
				out = append(out, safeEx(t, "en"))
			}
		}
		return out, err
	}},
	{name: "toxic_spans_civil", group: "hate", files: []string{"toxic_spans_civil/toxic_spans_per_comment.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "toxic_spans_civil/toxic_spans_per_comment.csv"))
		var out []Example
		for _, r := range rows {
			n := atof(r["n_annotators"])
			if n == 0 || atof(r["n_said_not_toxic"])*2 >= n {
				continue // annotators disagree that it is toxic: neither label is clean
			}
			var c []hazard.Category
			if atof(r["votes_threat"]) >= 2 {
				c = append(c, cViolent, cHarass)
			}
			if atof(r["votes_identity_attack"]) >= 2 {
				c = append(c, cHate)
			}
			if atof(r["votes_insult"]) >= 2 && len(c) == 0 {
				c = append(c, cHarass)
			}
			if len(c) > 0 {
				out = append(out, unsafeEx(r["text"], "en", c...))
			}
		}
		return out, err
	}},
	{name: "jigsaw_ibm_sample", group: "hate", files: []string{"jigsaw_ibm_sample/test_examples.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "jigsaw_ibm_sample/test_examples.csv"))
		var out []Example
		for _, r := range rows {
			var c []hazard.Category
			if r["identity_hate"] == "1" {
				c = append(c, cHate)
			}
			if r["threat"] == "1" {
				c = append(c, cViolent)
			}
			if len(c) == 0 && (r["toxic"] == "1" || r["insult"] == "1" || r["severe_toxic"] == "1") {
				c = append(c, cHarass)
			}
			if len(c) > 0 {
				out = append(out, unsafeEx(r["comment_text"], "en", c...))
			} else if r["obscene"] != "1" {
				out = append(out, safeEx(r["comment_text"], "en"))
			}
		}
		return out, err
	}},
	{name: "cold", group: "hate", files: []string{"cold/train.csv"}, read: func(root string) ([]Example, error) {
		var out []Example
		for _, f := range []string{"train.csv", "dev.csv", "test.csv"} {
			rows, err := readCSV(p(root, "cold", f))
			if err != nil {
				return nil, err
			}
			for _, r := range rows {
				if r["label"] == "1" {
					out = append(out, unsafeEx(r["TEXT"], "zh", cHate))
				} else {
					out = append(out, safeEx(r["TEXT"], "zh"))
				}
			}
		}
		return out, nil
	}},
	{name: "swsr_zh", group: "hate", files: []string{"swsr_zh/SexComment.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "swsr_zh/SexComment.csv"))
		var out []Example
		for _, r := range rows {
			// Only the text and label columns are read: the commenter's
			// gender, location, likes and date are personal metadata.
			t := stripSocial(r["comment_text"])
			if r["label"] == "1" {
				c := []hazard.Category{cHate}
				if r["category"] == "SO" {
					c = append(c, cSexual)
				}
				out = append(out, unsafeEx(t, "zh", c...))
			} else {
				out = append(out, safeEx(t, "zh"))
			}
		}
		return out, err
	}},
	{name: "rtp_lx", group: "sexual", files: []string{"rtp_lx/rtplx_EN_prompts.jsonl"}, read: readRTPLX},
	// ---- self-harm ----
	{name: "psysuicide_zh", group: "selfharm", files: []string{"psysuicide_zh/valid.json"}, read: readPsySuicide},
	// ---- benign ----
	{name: "awesome_prompts_en", group: "benign", files: []string{"awesome_prompts/prompts_en.csv"}, read: func(root string) ([]Example, error) {
		rows, err := readCSV(p(root, "awesome_prompts/prompts_en.csv"))
		var out []Example
		for _, r := range rows {
			out = append(out, safeEx(r["prompt"], "en"))
		}
		return out, err
	}},
	{name: "awesome_prompts_zh", group: "benign", files: []string{"awesome_prompts/prompts_zh.json"}, read: func(root string) ([]Example, error) {
		var rows []map[string]any
		err := readJSON(p(root, "awesome_prompts/prompts_zh.json"), &rows)
		var out []Example
		for _, r := range rows {
			out = append(out, safeEx(str(r, "prompt"), "zh"))
		}
		return out, err
	}},
	{name: "alpaca_seed", group: "benign", files: []string{"alpaca_seed/seed_tasks.jsonl"}, read: func(root string) ([]Example, error) {
		rows, err := readJSONL(p(root, "alpaca_seed/seed_tasks.jsonl"))
		var out []Example
		for _, r := range rows {
			out = append(out, safeEx(str(r, "instruction"), "en"))
		}
		return out, err
	}},
}

// benignFolders are the folders under benign/ read through their
// normalised prompts.jsonl; hard marks the hard-negative sets.
var benignFolders = []struct {
	name string
	hard bool
}{
	{"clinc150", false}, {"banking77", false}, {"nq_open", false}, {"webquestions", false},
	{"dolly_open_qa", false}, {"arena_hard", false}, {"oasst_prompts", false}, {"ifeval", false},
	{"self_instruct_user_oriented", false}, {"fastchat_mtbench_vicuna", false}, {"gsm8k", false},
	{"humaneval", false},
	{"mmlu", true}, {"truthfulqa", true}, {"pubmedqa", true}, {"medquad_questions", true},
	{"coconot_contrast", true}, {"orbench_80k_subset", true}, {"bbq_subsample", true},
	{"zh_question_lists_plexpt", false}, {"mt_bench_zh_ziya", false}, {"crosswoz_user_turns", false},
	{"kdconv_user_turns", false}, {"cmrc2018_questions", false}, {"zh_medical_dialogue", true},
	{"safetybench_zh_knowledge", true}, {"gaokao_bench", false}, {"agieval_gaokao_zh", false},
}

func init() {
	for _, b := range benignFolders {
		b := b
		group := "benign"
		if b.hard {
			group = "hard_negative"
		}
		adapters = append(adapters, adapter{name: b.name, group: group, files: []string{"benign/" + b.name + "/prompts.jsonl"},
			read: func(root string) ([]Example, error) {
				rows, err := readJSONL(p(root, "benign", b.name, "prompts.jsonl"))
				var out []Example
				for _, r := range rows {
					t := str(r, "prompt")
					lang := str(r, "lang")
					if lang != "zh" {
						lang = DetectLang(t)
					}
					out = append(out, safeEx(t, lang))
				}
				return out, err
			}})
	}
	// The keyword-selected sensitive-topic sample of the Chinese question
	// lists: benign questions about hacking, suicide, drugs, war...
	adapters = append(adapters, adapter{name: "zh_question_lists_hard", group: "hard_negative",
		files: []string{"benign/zh_question_lists_plexpt/hard_negative_sample.jsonl"},
		read: func(root string) ([]Example, error) {
			rows, err := readJSONL(p(root, "benign/zh_question_lists_plexpt/hard_negative_sample.jsonl"))
			var out []Example
			for _, r := range rows {
				out = append(out, safeEx(str(r, "prompt"), "zh"))
			}
			return out, err
		}})
}
