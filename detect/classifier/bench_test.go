package classifier_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/warden-safety/warden/detect"
	"github.com/warden-safety/warden/detect/classifier"
	"github.com/warden-safety/warden/detect/classifier/data"
	"github.com/warden-safety/warden/detect/lexicon"
	"github.com/warden-safety/warden/detect/normalize"
	"github.com/warden-safety/warden/detect/pii"
)

const sampleEN = "I'm planning a two-week trip to Japan in April with my partner and we would love some help. " +
	"We land in Tokyo and want to see Kyoto, Nara and maybe Hiroshima, travelling by train. " +
	"Could you suggest a day-by-day itinerary that balances temples, food markets and a few quiet days? " +
	"We are vegetarian, so restaurant tips are welcome, and we'd like to know whether the JR Pass is worth it. "

const sampleZH = "我们计划四月份去日本旅行两周，先到东京，然后想去京都、奈良，可能还有广岛，主要坐火车。" +
	"能不能帮我们安排一个每天的行程，兼顾寺庙、美食市场和几天安静的休息？我们吃素，欢迎推荐餐厅。"

func repeatTo(s string, n int) string {
	out := strings.Repeat(s, n/len(s)+1)
	// cut at a rune boundary
	for i := n; i > 0; i-- {
		if i < len(out) && (out[i]&0xC0) != 0x80 {
			return out[:i]
		}
	}
	return out[:n]
}

func BenchmarkPredict1KiB(b *testing.B) {
	d := embedded(b)
	text := repeatTo(sampleEN, 1024)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		d.Predict(text)
	}
}

func BenchmarkPredict1KiBChinese(b *testing.B) {
	d := embedded(b)
	text := repeatTo(sampleZH, 1024)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		d.Predict(text)
	}
}

func BenchmarkLoadEmbedded(b *testing.B) {
	for b.Loop() {
		if _, err := classifier.New(); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPipeline(b *testing.B, text string) { benchScan(b, detect.NewPipeline(embedded(b)), text) }

// benchAll measures the pipeline warden serve runs by default: the
// lexicon, PII and the classifier over one normalization.
func benchAll(b *testing.B, text string) {
	lex, err := lexicon.New()
	if err != nil {
		b.Fatal(err)
	}
	benchScan(b, detect.NewPipeline(lex, pii.New(), embedded(b)), text)
}

func benchScan(b *testing.B, p *detect.Pipeline, text string) {
	ctx := context.Background()
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := p.Scan(ctx, text); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPipeline64KiB(b *testing.B) { benchPipeline(b, repeatTo(sampleEN, 64<<10)) }

func BenchmarkPipeline64KiBChinese(b *testing.B) { benchPipeline(b, repeatTo(sampleZH, 64<<10)) }

// variedText joins the texts of the unseen evaluation sets in language
// lang up to n bytes: text without the repeats of repeatTo, whose copies
// a model with distinct features (version 3) reads only once.
func variedText(b *testing.B, lang string, n int) string {
	var sb strings.Builder
	for _, name := range []string{"unseen_chat", "unseen", "unseen_mixed", "unseen_targeted"} {
		f, err := os.Open("testdata/" + name + ".jsonl")
		if err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() && sb.Len() < n {
			var row struct{ Text, Lang string }
			if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
				b.Fatal(err)
			}
			if row.Lang == "" {
				row.Lang = data.DetectLang(row.Text)
			}
			if row.Lang == lang {
				sb.WriteString(row.Text)
				sb.WriteByte('\n')
			}
		}
		f.Close()
	}
	if sb.Len() < n/2 {
		b.Fatalf("only %d bytes of %s text", sb.Len(), lang)
	}
	// the Chinese rows hold about 60 KB: a repeat that far back is in
	// another window
	return repeatTo(sb.String(), n)
}

func benchPredict(b *testing.B, text string) {
	d := embedded(b)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		d.Predict(text)
	}
}

func BenchmarkPredict1KiBVaried(b *testing.B) { benchPredict(b, variedText(b, "en", 1<<10)) }

func BenchmarkPredict1KiBVariedChinese(b *testing.B) { benchPredict(b, variedText(b, "zh", 1<<10)) }

func BenchmarkPipeline64KiBVaried(b *testing.B) { benchPipeline(b, variedText(b, "en", 64<<10)) }

func BenchmarkPipeline64KiBVariedChinese(b *testing.B) { benchPipeline(b, variedText(b, "zh", 64<<10)) }

// benchViews measures the normalizer alone on text, the pipeline's other
// share besides the classifier.
func benchViews(b *testing.B, text string) {
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		normalize.Views(text, normalize.Options{})
	}
}

func BenchmarkViews64KiBVaried(b *testing.B) { benchViews(b, variedText(b, "en", 64<<10)) }

func BenchmarkViews64KiBVariedChinese(b *testing.B) { benchViews(b, variedText(b, "zh", 64<<10)) }

func BenchmarkPipelineAll64KiBVaried(b *testing.B) { benchAll(b, variedText(b, "en", 64<<10)) }

func BenchmarkPipelineAll64KiBVariedChinese(b *testing.B) { benchAll(b, variedText(b, "zh", 64<<10)) }
