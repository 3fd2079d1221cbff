package testenv

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"yinling/shared/apispec"
	"yinling/shared/tenant"
)

// Invoker is a function's Lambda entry point: the JSON path production takes (lambda.Handler).
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// contract is the OpenAPI document, loaded once per test binary.
var contract = sync.OnceValues(apispec.Load)

// capabilityRoutes are the route prefixes served under a capability link (the token is the
// credential), whose answers must keep the link out of Referer headers and search engines.
var capabilityRoutes = []string{" /api/family/", " /api/b/", " /api/r/", " /api/o/"}

// InvokeHTTP sends req through h's production JSON path and returns the answer with its JSON
// body (nil for 204). Every answer is held to the OpenAPI document, and every answer under a
// capability link to its headers (Referrer-Policy: no-referrer, X-Robots-Tag: noindex).
func InvokeHTTP(t testing.TB, h Invoker, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, map[string]any) {
	t.Helper()
	payload, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	out, err := h.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}
	var resp events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatal(err)
	}
	spec, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.CheckResponse(req.RouteKey, resp.StatusCode, resp.Headers["content-type"], []byte(resp.Body)); err != nil {
		t.Errorf("%s: response breaks the OpenAPI contract: %v", req.RouteKey, err)
	}
	for _, prefix := range capabilityRoutes {
		if !strings.Contains(req.RouteKey, prefix) {
			continue
		}
		if resp.Headers["referrer-policy"] != "no-referrer" || !strings.Contains(resp.Headers["x-robots-tag"], "noindex") {
			t.Errorf("%s %d: capability headers missing: %v", req.RouteKey, resp.StatusCode, resp.Headers)
		}
	}
	if resp.StatusCode == http.StatusNoContent {
		return resp, nil
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("%s %d: body is not JSON: %s", req.RouteKey, resp.StatusCode, resp.Body)
	}
	return resp, body
}

// Items counts the items of the test's table, but for the failed-lookup counters (PK GUESS#…);
// with guesses, only those. Counting a miss is the one write a refused lookup is meant to make,
// so a refusal that changed nothing leaves Items(t, false) as it was. (A Scan is fine here: this
// is a test looking at what a request changed, not a request path.)
func (e *Env) Items(t testing.TB, guesses bool) int {
	t.Helper()
	filter := "NOT begins_with(PK, :guess)"
	if guesses {
		filter = "begins_with(PK, :guess)"
	}
	pages := dynamodb.NewScanPaginator(e.DynamoDB, &dynamodb.ScanInput{
		TableName: aws.String(e.TableName()), FilterExpression: aws.String(filter), Select: types.SelectCount,
		ExpressionAttributeValues: map[string]types.AttributeValue{":guess": &types.AttributeValueMemberS{Value: "GUESS#"}},
	})
	n := 0
	for pages.HasMorePages() {
		out, err := pages.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		n += int(out.Count)
	}
	return n
}

// AsStore returns a staff request as staff of another store would send it: the same claims but
// the store's. req's own authorizer context is left as it was.
func AsStore(req events.APIGatewayV2HTTPRequest, store string) events.APIGatewayV2HTTPRequest {
	claims := map[string]string{}
	for k, v := range req.RequestContext.Authorizer.JWT.Claims {
		claims[k] = v
	}
	claims[tenant.ClaimStoreID] = store
	jwt := *req.RequestContext.Authorizer.JWT
	jwt.Claims = claims
	auth := *req.RequestContext.Authorizer
	auth.JWT = &jwt
	req.RequestContext.Authorizer = &auth
	return req
}
