package pii_test

import (
	"context"
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/pii"
	"github.com/warden-safety/warden/hazard"
)

// repeat builds test keys without writing realistic secrets in the source.
func repeat(s string, n int) string { return strings.Repeat(s, n)[:n] }

func jwt(header string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(`{"sub":"1234567890","name":"Test"}`)) + "." + enc([]byte("signature-bytes-here"))
}

type piiCase struct {
	text string
	want string // the expected type, "" for none
	// value is the substring that must be the finding's span (defaults to
	// the whole text after the "x: " prefix when empty).
	value string
}

var cases = []piiCase{
	// Email.
	{"mail me at jane.doe+test@example.co.uk today", pii.Email, "jane.doe+test@example.co.uk"},
	{"contact: a_b@sub.example.org.", pii.Email, "a_b@sub.example.org"},
	{"user@localhost is not routable", "", ""},
	{"@handle on twitter", "", ""},
	{"name@domain.c1m", "", ""},
	// Phone.
	{"call +1 415 555 2671 now", pii.Phone, "+1 415 555 2671"},
	{"call +44 20 7946 0958", pii.Phone, "+44 20 7946 0958"},
	{"手机：13800138000", pii.Phone, "13800138000"},
	{"手机 138 0013 8000 联系", pii.Phone, "138 0013 8000"},
	{"+8613800138000", pii.Phone, "+8613800138000"},
	{"office (415) 555-2671", pii.Phone, "(415) 555-2671"},
	{"office 415-555-2671", pii.Phone, "415-555-2671"},
	{"mobile 07700 900123", pii.Phone, "07700 900123"},
	{"the year 2024-01-15 was fine", "", ""},
	{"order 12345 shipped", "", ""},
	{"call 12800138000", "", ""}, // not 1[3-9]
	{"+12", "", ""},
	// Credit cards.
	{"card 4111 1111 1111 1111 exp 12/29", pii.CreditCard, "4111 1111 1111 1111"},
	{"card 4111-1111-1111-1111", pii.CreditCard, "4111-1111-1111-1111"},
	{"mc 5500000000000004", pii.CreditCard, "5500000000000004"},
	{"mc2 2223003122003222", pii.CreditCard, "2223003122003222"},
	{"amex 3782 822463 10005", pii.CreditCard, "3782 822463 10005"},
	{"discover 6011111111111117", pii.CreditCard, "6011111111111117"},
	{"jcb 3530111333300000", pii.CreditCard, "3530111333300000"},
	{"unionpay 6200000000000005", pii.CreditCard, "6200000000000005"},
	{"diners 30000000000004", pii.CreditCard, "30000000000004"},
	{"bad luhn 4111 1111 1111 1112", "", ""},
	{"unknown issuer 1234567812345670", "", ""},
	{"visa length 41111111111111111", "", ""},
	// IBAN.
	{"IBAN DE89370400440532013000", pii.IBAN, "DE89370400440532013000"},
	{"IBAN DE89 3704 0044 0532 0130 00.", pii.IBAN, "DE89 3704 0044 0532 0130 00"},
	{"FR1420041010050500013M02606", pii.IBAN, "FR1420041010050500013M02606"},
	{"NL91ABNA0417164300", pii.IBAN, "NL91ABNA0417164300"},
	{"GB82 WEST 1234 5698 7654 32", pii.IBAN, "GB82 WEST 1234 5698 7654 32"},
	{"bad check DE89370400440532013001", "", ""},
	{"wrong length DE8937040044053201300", "", ""},
	{"unknown country QQ89370400440532013000", "", ""},
	// US SSN.
	{"SSN 536-22-1234", pii.USSSN, "536-22-1234"},
	{"SSN 536 22 1234", pii.USSSN, "536 22 1234"},
	{"SSN 000-22-1234", "", ""},
	{"SSN 666-22-1234", "", ""},
	{"SSN 912-22-1234", "", ""},
	{"SSN 536-00-1234", "", ""},
	{"SSN 536-22-0000", "", ""},
	{"SSN 078-05-1120", "", ""},
	// Chinese resident ID.
	{"身份证号11010519491231002X。", pii.CNResidentID, "11010519491231002X"},
	{"ID 320106198502143015", pii.CNResidentID, "320106198502143015"},
	{"ID 44030419900307123x", pii.CNResidentID, "44030419900307123x"},
	{"bad check 320106198502143016", "", ""},
	{"bad date 320106198502303015", "", ""},
	{"bad region 990106198502143015", "", ""},
	// IP addresses.
	{"server at 192.168.1.10:8080", pii.IPAddress, "192.168.1.10"},
	{"dns 8.8.8.8.", pii.IPAddress, "8.8.8.8"},
	{"v6 2001:db8::8a2e:370:7334 here", pii.IPAddress, "2001:db8::8a2e:370:7334"},
	{"link fe80::1ff:fe23:4567:890a", pii.IPAddress, "fe80::1ff:fe23:4567:890a"},
	{"version 1.2.3.4.5", "", ""},
	{"release v1.2.3.4", "", ""},
	{"bad 256.1.1.1", "", ""},
	{"leading zero 01.2.3.4", "", ""},
	{"std::vector<int> and a::b", "", ""},
	{"at 12:30:45 today", "", ""},
	// Secrets.
	{"OPENAI_API_KEY=sk-" + repeat("aB3dE5fG7h", 48), pii.OpenAIKey, "sk-" + repeat("aB3dE5fG7h", 48)},
	{"key sk-proj-" + repeat("Zx9_Yw8-Vu7", 120), pii.OpenAIKey, "sk-proj-" + repeat("Zx9_Yw8-Vu7", 120)},
	{"sk-learn-compatible-estimators-are-great-for-this", "", ""},
	{"key sk-ant-api03-" + repeat("Q1w2E3r4T5y6", 95), pii.AnthropicKey, "sk-ant-api03-" + repeat("Q1w2E3r4T5y6", 95)},
	{"aws AKIA" + repeat("Z7Q4", 16) + " ok", pii.AWSAccessKey, "AKIA" + repeat("Z7Q4", 16)},
	{"aws ASIA" + repeat("Z7Q4", 16), pii.AWSAccessKey, "ASIA" + repeat("Z7Q4", 16)},
	{"not aws AKIA" + repeat("Z7Q4", 15), "", ""},
	{"aws_secret_access_key = " + repeat("wJalrXUtnF/K7MDENG+bPx1Rfi", 40), pii.AWSSecretKey, repeat("wJalrXUtnF/K7MDENG+bPx1Rfi", 40)},
	{"unlabelled " + repeat("wJalrXUtnF/K7MDENG+bPx1Rfi", 40), "", ""},
	{"gh ghp_" + repeat("a1B2c3D4e5", 36), pii.GitHubToken, "ghp_" + repeat("a1B2c3D4e5", 36)},
	{"gh gho_" + repeat("a1B2c3D4e5", 36), pii.GitHubToken, "gho_" + repeat("a1B2c3D4e5", 36)},
	{"gh github_pat_" + repeat("11ABCDEFG0_abcdefghij", 82), pii.GitHubToken, "github_pat_" + repeat("11ABCDEFG0_abcdefghij", 82)},
	{"short ghp_abc123", "", ""},
	{"slack xoxb-" + repeat("1234567890-", 40), pii.SlackToken, "xoxb-" + repeat("1234567890-", 40)},
	{"google AIza" + repeat("SyD-9_xYz1", 35), pii.GoogleAPIKey, "AIza" + repeat("SyD-9_xYz1", 35)},
	{"google AIza" + repeat("SyD-9_xYz1", 34), "", ""},
	{"stripe sk_live_" + repeat("4eC39HqLyjWDarjtT1zdp7dc", 24), pii.StripeKey, "sk_live_" + repeat("4eC39HqLyjWDarjtT1zdp7dc", 24)},
	{"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----\nafter", pii.PrivateKey, "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"},
	{"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE", pii.PrivateKey, "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE"},
	{"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----", "", ""},
	{"token " + jwt(`{"alg":"HS256","typ":"JWT"}`) + " end", pii.JWT, jwt(`{"alg":"HS256","typ":"JWT"}`)},
	{"not a jwt " + jwt(`{"typ":"JWT","kid":"1"}`), "", ""},
	{"not a jwt eyJhbGciOiJIUzI1NiJ9 alone", "", ""},
}

func TestTypes(t *testing.T) {
	for _, c := range cases {
		fs := pii.Find(c.text)
		if c.want == "" {
			for _, f := range fs {
				t.Errorf("%q: unexpected %s at %v", c.text, f.Rule, f.Span)
			}
			continue
		}
		var got []string
		ok := false
		for _, f := range fs {
			got = append(got, f.Rule+"="+c.text[f.Span.Start:f.Span.End])
			if f.Rule == c.want && c.text[f.Span.Start:f.Span.End] == c.value {
				ok = true
				wantCat := hazard.PII
				if slices.Contains([]string{pii.OpenAIKey, pii.AnthropicKey, pii.AWSAccessKey, pii.AWSSecretKey, pii.GitHubToken, pii.SlackToken, pii.GoogleAPIKey, pii.StripeKey, pii.PrivateKey, pii.JWT}, f.Rule) {
					wantCat = hazard.Secrets
				}
				if f.Category != wantCat {
					t.Errorf("%q: category %s, want %s", c.text, f.Category, wantCat)
				}
				if strings.Contains(f.Explanation, c.value) || f.Detector != pii.Name || f.Score < 0.6 || f.Score > 1 {
					t.Errorf("%q: bad finding %+v", c.text, f)
				}
			}
		}
		if !ok {
			t.Errorf("%q: want %s %q, got %q", c.text, c.want, c.value, got)
		}
	}
}

func TestRedactionRoundTrip(t *testing.T) {
	text := "Hi, I'm Jane (jane@example.com, +1 415 555 2671). Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00. " +
		"Again: jane@example.com. Key AKIA" + repeat("Z7Q4", 16) + ", 身份证 11010519491231002X, server 10.0.0.7."
	p := detect.NewPipeline(pii.New())
	v, err := p.Scan(context.Background(), text)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := v.Category(hazard.PII); !ok || !r.Flagged {
		t.Fatalf("PII not flagged: %+v", v.Categories)
	}
	if r, ok := v.Category(hazard.Secrets); !ok || !r.Flagged {
		t.Fatalf("secrets not flagged: %+v", v.Categories)
	}
	red := detect.NewRedaction()
	out := red.Redact(text, v.Findings, nil)
	for _, secret := range []string{"jane@example.com", "415 555 2671", "4111 1111", "DE89", "AKIA", "11010519491231002X", "10.0.0.7"} {
		if strings.Contains(out, secret) {
			t.Errorf("redacted text still contains %q: %s", secret, out)
		}
	}
	for _, ph := range []string{"[EMAIL_1]", "[PHONE_1]", "[CREDIT_CARD_1]", "[IBAN_1]", "[AWS_ACCESS_KEY_1]", "[CN_RESIDENT_ID_1]", "[IP_ADDRESS_1]"} {
		if !strings.Contains(out, ph) {
			t.Errorf("redacted text lacks %s: %s", ph, out)
		}
	}
	if strings.Count(out, "[EMAIL_1]") != 2 || strings.Contains(out, "[EMAIL_2]") {
		t.Errorf("the same email should get the same placeholder: %s", out)
	}
	if back := red.Restore(out); back != text {
		t.Errorf("restore:\n got %q\nwant %q", back, text)
	}
	// A model answer that repeats a placeholder is restored too.
	if got := red.Restore("Sent to [EMAIL_1]."); got != "Sent to jane@example.com." {
		t.Errorf("restore answer: %q", got)
	}
}

func TestDecodedViews(t *testing.T) {
	// A base64-encoded email is found in the decoded view once normalize
	// produces one, with the span of the encoded text.
	enc := base64.StdEncoding.EncodeToString([]byte("write to jane@example.com please"))
	text := "payload: " + enc
	p := detect.NewPipeline(pii.New())
	doc := p.NewDocument(text)
	v, err := p.ScanDocument(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	decoded := false
	for _, vw := range doc.Views {
		decoded = decoded || strings.Contains(vw.Name, "base64")
	}
	if !decoded {
		t.Skip("normalize produces no base64 view yet")
	}
	for _, f := range v.Findings {
		if f.Rule == pii.Email {
			if f.Span.Start < len("payload: ") || f.Span.End > len(text) {
				t.Errorf("span %v is not inside the encoded text", f.Span)
			}
			return
		}
	}
	t.Errorf("email in base64 not found: %+v", v.Findings)
}

func TestFullWidthDigits(t *testing.T) {
	text := "电话：１３８００１３８０００"
	v, err := detect.NewPipeline(pii.New()).Scan(context.Background(), text)
	if err != nil {
		t.Fatal(err)
	}
	if len(v.Findings) != 1 || v.Findings[0].Rule != pii.Phone || text[v.Findings[0].Span.Start:v.Findings[0].Span.End] != "１３８００１３８０００" {
		t.Errorf("full-width phone: %+v", v.Findings)
	}
}

func TestNoFalsePositivesOnProse(t *testing.T) {
	texts := []string{
		"The meeting is at 10:30 on 2024-03-15 in room 4.12; bring 3 copies of v2.1.0.",
		"Invoice #20240315-0042 totals $1,234.56 for 12 items at 102.88 each.",
		"Use std::map and Foo::Bar in C++; the ratio is 16:9 at 1920x1080.",
		"ISBN 978-3-16-148410-0 and DOI 10.1000/182; call extension 1234.",
		"Python 3.12.1 and Go 1.26.0 on kernel 6.8.0-45-generic.",
		"sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"ask-ant-colony-optimization is an algorithm; the desk-lamp has sk-7 model",
		"请在2024年3月15日前提交，编号为20240315001的订单共计1234元。",
	}
	for _, text := range texts {
		for _, f := range pii.Find(text) {
			t.Errorf("%q: unexpected %s %q", text, f.Rule, text[f.Span.Start:f.Span.End])
		}
	}
}

func TestCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	doc := detect.NewPipeline().NewDocument("jane@example.com")
	if _, err := pii.New().Scan(ctx, doc, nil); err == nil {
		t.Fatal("want the context's error")
	}
}

func TestVersion(t *testing.T) {
	d := pii.New()
	if d.Name() != "pii" || d.Version() != pii.Version || !strings.HasPrefix(d.Version(), "pii/") {
		t.Fatalf("name %q version %q", d.Name(), d.Version())
	}
}
