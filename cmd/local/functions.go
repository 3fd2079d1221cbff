package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"yinling/functions/admin"
	"yinling/functions/dispatcher"
	"yinling/functions/escalator"
	"yinling/functions/fanout"
	"yinling/functions/promotions"
	"yinling/functions/qa"
	"yinling/functions/reminders"
	"yinling/functions/sender"
	"yinling/functions/signup"
	"yinling/functions/web"
	"yinling/shared/envconfig"
	"yinling/shared/lambdamain"
)

// function is one Lambda of template.yaml, as the local stack builds it: through the function
// package's own Wire and Handle, exactly as its main does.
type function struct {
	// envNames are the variables the function's Env reads.
	envNames []string
	// build loads the Env from lookup and returns the handler on Lambda's JSON path, and the
	// route keys it serves (HTTP functions).
	build func(lookup envconfig.Lookup, cfg aws.Config, log *slog.Logger) (lambda.Handler, []string, error)
}

// functions are keyed by sam.Function.Name (the directory under functions/).
var functions = map[string]function{
	"admin":      fn(admin.Wire, (*admin.Handler).Handle),
	"dispatcher": fn(dispatcher.Wire, (*dispatcher.Handler).Handle),
	"escalator":  fn(escalator.Wire, (*escalator.Handler).Handle),
	"fanout":     fn(fanout.Wire, (*fanout.Handler).Handle),
	"promotions": fn(promotions.Wire, (*promotions.Handler).Handle),
	"qa":         fn(qa.Wire, (*qa.Handler).Handle),
	"reminders":  fn(reminders.Wire, (*reminders.Handler).Handle),
	"sender":     fn(sender.Wire, (*sender.Handler).Handle),
	"signup":     fn(signup.Wire, (*signup.Handler).Handle),
	"web": fn(func(e web.Env, _ aws.Config, log *slog.Logger) *web.Handler { return web.Wire(e, log) },
		(*web.Handler).Handle),
}

func fn[E, H, In, Out any](wire lambdamain.Builder[E, H], handle lambdamain.Method[H, In, Out]) function {
	var zero E
	return function{
		envNames: envconfig.Names(&zero),
		build: func(lookup envconfig.Lookup, cfg aws.Config, log *slog.Logger) (lambda.Handler, []string, error) {
			var env E
			if err := envconfig.Load(lookup, &env); err != nil {
				return nil, nil, fmt.Errorf("configuration: %w", err)
			}
			h := wire(env, cfg, log)
			var routes []string
			if r, ok := any(h).(interface{ Routes() []string }); ok {
				routes = slices.Clone(r.Routes())
			}
			return &instance{h: lambda.NewHandler(lambdamain.Bind(h, handle))}, routes, nil
		},
	}
}

// instance runs one invocation at a time, as a Lambda execution environment does. It matters:
// aws-lambda-go's handler reuses one output buffer across invocations, so two at once would
// write over each other's response (the race detector caught it when a page fetched two routes
// of one function together). The output is copied before the next invocation may start.
type instance struct {
	mu sync.Mutex
	h  lambda.Handler
}

func (i *instance) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	out, err := i.h.Invoke(ctx, payload)
	return bytes.Clone(out), err
}
