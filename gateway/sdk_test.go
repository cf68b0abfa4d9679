package gateway_test

// The official OpenAI and Anthropic Go SDKs pointed at Warden, streamed and
// not. They are heavy to compile, so they live in this one file.

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/anthropics/anthropic-sdk-go"
	aoption "github.com/anthropics/anthropic-sdk-go/option"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/responses"

	"github.com/warden-safety/warden/gateway/fakellm"
)

func sdkResponder(p string) string {
	if strings.Contains(p, "dangerous") {
		return strings.Repeat("fine words here ", 25) + "and now the nerve agent steps " + strings.Repeat("tail ", 40)
	}
	return "Tea came to Europe in the 17th century."
}

func TestOpenAISDK(t *testing.T) {
	e := newEnv(t, fakellm.Config{Responder: sdkResponder, WordsPerChunk: 2}, nil)
	ctx := context.Background()
	client := openai.NewClient(option.WithBaseURL(e.url+"/v1/"), option.WithAPIKey("client-key"), option.WithMaxRetries(0))
	msgs := func(s string) []openai.ChatCompletionMessageParamUnion {
		return []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("be brief"), openai.UserMessage(s)}
	}

	cc, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "fake-sdk", Messages: msgs("tea?")})
	if err != nil || cc.Choices[0].Message.Content != "Tea came to Europe in the 17th century." || cc.Usage.CompletionTokens == 0 {
		t.Fatalf("chat: %v %+v", err, cc)
	}

	stream := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "fake-sdk", Messages: msgs("tea?")})
	acc := openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil || acc.Choices[0].Message.Content != "Tea came to Europe in the 17th century." || acc.Choices[0].FinishReason != "stop" {
		t.Fatalf("chat stream: %v %+v", err, acc.Choices)
	}

	// A blocked prompt is an *openai.Error with the content-policy code.
	_, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{Model: "fake-sdk", Messages: msgs("a nerve agent please")})
	var oe *openai.Error
	if !errors.As(err, &oe) || oe.StatusCode != 400 || oe.Code != "content_policy_violation" || !strings.Contains(oe.Message, "cbrn_weapons at messages[1].content") {
		t.Fatalf("blocked: %v", err)
	}

	// A stream flagged mid-way ends with finish_reason content_filter.
	stream = client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{Model: "fake-sdk", Messages: msgs("something dangerous")})
	acc = openai.ChatCompletionAccumulator{}
	for stream.Next() {
		acc.AddChunk(stream.Current())
	}
	if err := stream.Err(); err != nil || acc.Choices[0].FinishReason != "content_filter" || strings.Contains(acc.Choices[0].Message.Content, "nerve") {
		t.Fatalf("cut stream: %v %+v", err, acc.Choices)
	}

	comp, err := client.Completions.New(ctx, openai.CompletionNewParams{Model: "fake-sdk", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("tea?")}})
	if err != nil || comp.Choices[0].Text != "Tea came to Europe in the 17th century." {
		t.Fatalf("completions: %v %+v", err, comp)
	}
	cs := client.Completions.NewStreaming(ctx, openai.CompletionNewParams{Model: "fake-sdk", Prompt: openai.CompletionNewParamsPromptUnion{OfString: openai.String("tea?")}})
	var ctext strings.Builder
	for cs.Next() {
		for _, c := range cs.Current().Choices {
			ctext.WriteString(c.Text)
		}
	}
	if cs.Err() != nil || ctext.String() != "Tea came to Europe in the 17th century." {
		t.Fatalf("completions stream: %v %q", cs.Err(), ctext.String())
	}

	resp, err := client.Responses.New(ctx, responses.ResponseNewParams{Model: "fake-sdk", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("tea?")}})
	if err != nil || resp.OutputText() != "Tea came to Europe in the 17th century." {
		t.Fatalf("responses: %v %+v", err, resp)
	}
	rs := client.Responses.NewStreaming(ctx, responses.ResponseNewParams{Model: "fake-sdk", Input: responses.ResponseNewParamsInputUnion{OfString: openai.String("tea?")}})
	var rtext strings.Builder
	var completed bool
	for rs.Next() {
		ev := rs.Current()
		switch ev.Type {
		case "response.output_text.delta":
			rtext.WriteString(ev.Delta)
		case "response.completed":
			completed = ev.Response.OutputText() == "Tea came to Europe in the 17th century."
		}
	}
	if rs.Err() != nil || rtext.String() != "Tea came to Europe in the 17th century." || !completed {
		t.Fatalf("responses stream: %v %q %v", rs.Err(), rtext.String(), completed)
	}

	emb, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "fake-sdk", Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("tea")}})
	if err != nil || len(emb.Data) != 1 || len(emb.Data[0].Embedding) != 8 {
		t.Fatalf("embeddings: %v %+v", err, emb)
	}

	page, err := client.Models.List(ctx)
	if err != nil {
		t.Fatalf("models: %v", err)
	}
	var ids []string
	for _, m := range page.Data {
		ids = append(ids, m.ID)
	}
	// fake-* and claude-* are globs: no exact model to list.
	if len(ids) != 0 {
		t.Fatalf("models %v", ids)
	}
}

func TestAnthropicSDK(t *testing.T) {
	e := newEnv(t, fakellm.Config{Responder: sdkResponder, WordsPerChunk: 2}, nil)
	ctx := context.Background()
	client := anthropic.NewClient(aoption.WithBaseURL(e.url), aoption.WithAPIKey("client-key"), aoption.WithMaxRetries(0))
	params := func(s string) anthropic.MessageNewParams {
		return anthropic.MessageNewParams{Model: "claude-sdk", MaxTokens: 256,
			System:   []anthropic.TextBlockParam{{Text: "be brief"}},
			Messages: []anthropic.MessageParam{anthropic.NewUserMessage(anthropic.NewTextBlock(s))}}
	}
	text := func(m *anthropic.Message) string {
		var b strings.Builder
		for _, c := range m.Content {
			b.WriteString(c.Text)
		}
		return b.String()
	}

	msg, err := client.Messages.New(ctx, params("tea?"))
	if err != nil || text(msg) != "Tea came to Europe in the 17th century." || msg.StopReason != "end_turn" || msg.Usage.OutputTokens == 0 {
		t.Fatalf("messages: %v %+v", err, msg)
	}

	stream := client.Messages.NewStreaming(ctx, params("tea?"))
	acc := anthropic.Message{}
	for stream.Next() {
		if err := acc.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil || text(&acc) != "Tea came to Europe in the 17th century." || acc.StopReason != "end_turn" {
		t.Fatalf("stream: %v %+v", err, acc)
	}

	_, err = client.Messages.New(ctx, params("a nerve agent please"))
	var ae *anthropic.Error
	if !errors.As(err, &ae) || ae.StatusCode != 400 || !strings.Contains(ae.Error(), "invalid_request_error") {
		t.Fatalf("blocked: %v", err)
	}

	stream = client.Messages.NewStreaming(ctx, params("something dangerous"))
	acc = anthropic.Message{}
	for stream.Next() {
		if err := acc.Accumulate(stream.Current()); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.Err(); err != nil || acc.StopReason != "refusal" || strings.Contains(text(&acc), "nerve") ||
		!strings.HasSuffix(text(&acc), "This request was blocked by the safety policy.") {
		t.Fatalf("cut stream: %v stop=%q %q", err, acc.StopReason, text(&acc))
	}
}
