// Package bucket owns our S3 object client: HEAD, PUT and same-bucket COPY of one object, and
// presigned PUT and GET URLs, for one bucket. It exists for size: the SDK's S3 client adds
// 2.3 MiB to a function's bootstrap, whose budget is 10 MiB (DESIGN.md §8), and we use five of
// its hundred operations. It signs with the SDK's SigV4 signer and sends through a smithy middleware
// stack built like the SDK's — service metadata, the SDK's retryer, signing per attempt, and
// aws.Config.APIOptions — so call counters, fault injection and errors.As on
// *awshttp.ResponseError work as they do with SDK clients.
package bucket

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/encoding/httpbinding"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The service's names, as the SDK's S3 client reports them: APIOptions middleware (call
// counters, fault injectors) tell services apart by them.
const (
	serviceID   = "S3"
	signingName = "s3"
)

// contentSHA256 is the header that carries the hex SHA-256 of the body, which the signature
// covers. A presigned URL's body is unknown when it is signed: its hash is unsignedPayload.
const (
	contentSHA256   = "X-Amz-Content-Sha256"
	unsignedPayload = "UNSIGNED-PAYLOAD"
)

// Options configure New.
type Options struct {
	// UsePathStyle puts the bucket in the path (host/bucket/key) instead of the host name
	// (bucket.host/key). New chooses path style by itself for an endpoint on an IP address or
	// localhost, and for a bucket name that cannot be a host label.
	UsePathStyle bool
}

// Bucket is one S3 bucket. Create it with New, once per process; it is safe for concurrent
// use.
type Bucket struct {
	name       string
	region     string
	endpoint   *url.URL // scheme, host and path prefix of every object URL, bucket included
	err        error    // why the endpoint is unusable; every call returns it
	creds      aws.CredentialsProvider
	signer     *v4.Signer
	client     smithyhttp.ClientDo
	retryer    aws.Retryer
	apiOptions []func(*middleware.Stack) error
	logger     logging.Logger
	logRetries bool
	now        func() time.Time // dates signatures; the SDK's clock is time.Now as well
}

// New returns the bucket called name, reached with cfg's region, credentials, HTTP client,
// retryer and APIOptions. Its endpoint is the one the SDK's S3 client would resolve from cfg —
// the service-specific AWS_ENDPOINT_URL_S3 of cfg.ConfigSources, then cfg.BaseEndpoint — or
// else S3's regional endpoint (https://s3.<region>.amazonaws.com, .com.cn in China). New makes
// no network call.
func New(cfg aws.Config, name string, optFns ...func(*Options)) *Bucket {
	var o Options
	for _, fn := range optFns {
		fn(&o)
	}
	b := &Bucket{
		name:       name,
		region:     cfg.Region,
		creds:      cfg.Credentials,
		apiOptions: cfg.APIOptions,
		logger:     cfg.Logger,
		logRetries: cfg.ClientLogMode.IsRetries(),
		now:        time.Now,
		signer: v4.NewSigner(func(so *v4.SignerOptions) {
			so.DisableURIPathEscaping = true // S3 signs the path as sent, escaped once
			so.Logger = cfg.Logger
			so.LogSigning = cfg.ClientLogMode.IsSigning()
		}),
	}
	b.endpoint, b.err = endpoint(cfg, name, o.UsePathStyle)

	b.client = cfg.HTTPClient
	if b.client == nil {
		b.client = awshttp.NewBuildableClient()
	}
	// One retryer per client, as the SDK's: its retry quota is shared by every call.
	if cfg.Retryer != nil {
		b.retryer = cfg.Retryer()
	} else {
		b.retryer = retry.NewStandard()
	}
	if cfg.RetryMaxAttempts != 0 {
		b.retryer = retry.AddWithMaxAttempts(b.retryer, cfg.RetryMaxAttempts)
	}
	return b
}

// endpoint returns the URL under which the objects of bucket name are, e.g.
// https://name.s3.cn-north-1.amazonaws.com.cn or http://127.0.0.1:4566/name.
func endpoint(cfg aws.Config, name string, pathStyle bool) (*url.URL, error) {
	base := ""
	if cfg.BaseEndpoint != nil {
		base = *cfg.BaseEndpoint
	}
	if v, ok := serviceEndpoint(cfg.ConfigSources); ok {
		base = v
	}
	if base == "" {
		if cfg.Region == "" {
			return nil, errors.New("bucket: no region and no endpoint in the AWS config")
		}
		base = "https://s3." + cfg.Region + ".amazonaws.com"
		if strings.HasPrefix(cfg.Region, "cn-") {
			base += ".cn"
		}
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, fmt.Errorf("bucket: endpoint %q is not an http(s) URL", base)
	}
	path := strings.TrimSuffix(u.Path, "/")
	if pathStyle || literalHost(u.Hostname()) || !hostLabel(name) {
		return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: path + "/" + name,
			RawPath: strings.TrimSuffix(u.EscapedPath(), "/") + "/" + httpbinding.EscapePath(name, true)}, nil
	}
	return &url.URL{Scheme: u.Scheme, Host: name + "." + u.Host, Path: path, RawPath: strings.TrimSuffix(u.EscapedPath(), "/")}, nil
}

// serviceEndpoint returns the endpoint the configuration's sources name for S3
// (AWS_ENDPOINT_URL_S3): the SDK asks them through an internal package, with this interface.
func serviceEndpoint(sources []any) (string, bool) {
	type provider interface {
		GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
	}
	for _, s := range sources {
		if p, ok := s.(provider); ok {
			if v, found, err := p.GetServiceBaseEndpoint(context.Background(), serviceID); err == nil && found {
				return v, true
			}
		}
	}
	return "", false
}

// literalHost reports whether a bucket cannot be a subdomain of host: an IP address, or
// localhost, which resolves no subdomains everywhere. The SDK goes path-style for an IP
// address too.
func literalHost(host string) bool {
	return net.ParseIP(host) != nil || strings.EqualFold(host, "localhost")
}

// hostLabel reports whether name can be the first label of a host name under TLS: 3 to 63
// lowercase letters, digits and hyphens, a letter or digit at both ends. S3 allows dots in
// names too, but a dotted name breaks the wildcard certificate, so the SDK goes path-style.
func hostLabel(name string) bool {
	if len(name) < 3 || len(name) > 63 || name[0] == '-' || name[len(name)-1] == '-' {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// objectURL returns the URL of key, with query. The key is escaped as the SDK escapes it:
// everything but letters, digits, '-', '.', '_', '~' and '/'.
func (b *Bucket) objectURL(key string, query url.Values) *url.URL {
	u := *b.endpoint
	u.Path += "/" + key
	u.RawPath += "/" + httpbinding.EscapePath(key, false)
	u.RawQuery = query.Encode()
	return &u
}

// Object is what HEAD tells of an object.
type Object struct {
	Size        int64
	ContentType string
}

// Head returns the size and content type of key. A missing key fails with an error for which
// NotFound is true. It is S3's HeadObject.
func (b *Bucket) Head(ctx context.Context, key string) (Object, error) {
	resp, err := b.do(ctx, &request{op: "HeadObject", method: http.MethodHead, key: key})
	if err != nil {
		return Object{}, err
	}
	size := resp.ContentLength
	if v := resp.Header.Get("Content-Length"); v != "" {
		if size, err = strconv.ParseInt(v, 10, 64); err != nil {
			return Object{}, fmt.Errorf("head %s: Content-Length %q: %w", key, v, err)
		}
	}
	return Object{Size: size, ContentType: resp.Header.Get("Content-Type")}, nil
}

// Put stores body under key with contentType. The body is signed (its SHA-256 is in the
// signature), so S3 refuses it if it changes on the way. It is S3's PutObject.
func (b *Bucket) Put(ctx context.Context, key, contentType string, body []byte) error {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	_, err := b.do(ctx, &request{op: "PutObject", method: http.MethodPut, key: key,
		query: url.Values{"x-id": {"PutObject"}}, header: h, body: body})
	return err
}

// Copy copies srcKey to dstKey within the bucket, metadata included. It is S3's CopyObject.
func (b *Bucket) Copy(ctx context.Context, srcKey, dstKey string) error {
	h := http.Header{}
	h.Set("X-Amz-Copy-Source", "/"+httpbinding.EscapePath(b.name, true)+"/"+httpbinding.EscapePath(srcKey, false))
	_, err := b.do(ctx, &request{op: "CopyObject", method: http.MethodPut, key: dstKey,
		query: url.Values{"x-id": {"CopyObject"}}, header: h})
	return err
}

// PresignedRequest is a request anyone can send without credentials until it expires.
type PresignedRequest struct {
	URL    string
	Method string
	// SignedHeader are the headers the signature covers, Host included: the request must
	// carry them with these values.
	SignedHeader http.Header
}

// MaxPresignTTL is the longest a presigned URL can live: a SigV4 limit.
const MaxPresignTTL = 7 * 24 * time.Hour

// PresignPut presigns a PUT of exactly size bytes of contentType under key, valid for ttl; S3
// refuses a body of another length or type. It makes no network call.
func (b *Bucket) PresignPut(ctx context.Context, key, contentType string, size int64, ttl time.Duration) (PresignedRequest, error) {
	h := http.Header{}
	h.Set("Content-Type", contentType)
	return b.presign(ctx, http.MethodPut, key, "PutObject", h, size, ttl)
}

// PresignGet presigns a GET of key valid for ttl. It makes no network call.
func (b *Bucket) PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error) {
	req, err := b.presign(ctx, http.MethodGet, key, "GetObject", http.Header{}, 0, ttl)
	return req.URL, err
}

// presign signs a request of op in its URL, as the SDK's presign client does: the operation in
// x-id, the lifetime in X-Amz-Expires, the payload unsigned.
func (b *Bucket) presign(ctx context.Context, method, key, op string, h http.Header, size int64, ttl time.Duration) (PresignedRequest, error) {
	if b.err != nil {
		return PresignedRequest{}, b.err
	}
	if ttl < time.Second || ttl > MaxPresignTTL {
		return PresignedRequest{}, fmt.Errorf("presign %s %s: ttl %v is outside [1s, %v]", method, key, ttl, MaxPresignTTL)
	}
	creds, err := b.credentials(ctx)
	if err != nil {
		return PresignedRequest{}, fmt.Errorf("presign %s %s: %w", method, key, err)
	}
	q := url.Values{"x-id": {op}, "X-Amz-Expires": {strconv.FormatInt(int64(ttl/time.Second), 10)}}
	req := &http.Request{Method: method, URL: b.objectURL(key, q), Header: h, ContentLength: size}
	signed, signedHeader, err := b.signer.PresignHTTP(ctx, creds, req, unsignedPayload, signingName, b.region, b.now())
	if err != nil {
		return PresignedRequest{}, fmt.Errorf("presign %s %s: %w", method, key, err)
	}
	return PresignedRequest{URL: signed, Method: method, SignedHeader: signedHeader}, nil
}

// credentials returns the configuration's credentials, or an error without any.
func (b *Bucket) credentials(ctx context.Context) (aws.Credentials, error) {
	if b.creds == nil {
		return aws.Credentials{}, errors.New("no credentials in the AWS config")
	}
	creds, err := b.creds.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("retrieve credentials: %w", err)
	}
	return creds, nil
}

// NotFound reports whether err, from Head, is S3's answer that the object is not there: 404,
// or 403. A role without s3:ListBucket on the bucket — none of ours has it, as it would let a
// function list every store's keys — gets 403 for a missing key rather than 404; with
// s3:GetObject granted, a 403 on HEAD means exactly that.
func NotFound(err error) bool {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) {
		return false
	}
	s := re.HTTPStatusCode()
	return s == http.StatusNotFound || s == http.StatusForbidden
}

// request is one call's input to the middleware stack.
type request struct {
	op     string // the SDK's operation name: HeadObject, PutObject, CopyObject
	method string
	key    string
	query  url.Values
	header http.Header
	body   []byte
}

// do runs req through a middleware stack built like the SDK clients' and returns the answer,
// its body read and closed, or an error for a non-2xx one.
func (b *Bucket) do(ctx context.Context, req *request) (*http.Response, error) {
	if b.err != nil {
		return nil, b.err
	}
	ctx = middleware.ClearStackValues(ctx)
	ctx = middleware.WithServiceID(ctx, serviceID)
	ctx = middleware.WithOperationName(ctx, req.op)
	if b.logger != nil {
		ctx = middleware.SetLogger(ctx, b.logger)
	}
	stack, err := b.stack(req.op)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", req.op, req.key, err)
	}
	h := middleware.DecorateHandler(smithyhttp.NewClientHandlerWithOptions(b.client), stack)
	out, _, err := h.Handle(ctx, req)
	if err != nil {
		return nil, &smithy.OperationError{ServiceID: serviceID, OperationName: req.op, Err: err}
	}
	return out.(*http.Response), nil
}

// stack builds op's middleware stack: the steps of an SDK client's, with only what S3 needs
// of ours.
func (b *Bucket) stack(op string) (*middleware.Stack, error) {
	s := middleware.NewStack(op, smithyhttp.NewStackRequest)
	meta := &awsmiddleware.RegisterServiceMetadata{ServiceID: serviceID, SigningName: signingName, Region: b.region, OperationName: op}
	// Arguments are evaluated in order: Signing is in place before the retry middleware goes
	// in front of it, so that each attempt is signed, and dated, anew.
	err := errors.Join(
		s.Initialize.Add(meta, middleware.Before),
		s.Serialize.Add(middleware.SerializeMiddlewareFunc("OperationSerializer", b.serialize), middleware.After),
		awsmiddleware.AddClientRequestIDMiddleware(s),
		s.Build.Add(&awsmiddleware.RecursionDetection{}, middleware.After),
		awsmiddleware.AddRequestUserAgentMiddleware(s),
		s.Finalize.Add(middleware.FinalizeMiddlewareFunc("Signing", b.sign), middleware.After),
		retry.AddRetryMiddlewares(s, retry.AddRetryMiddlewaresOptions{Retryer: b.retryer, LogRetryAttempts: b.logRetries}),
		s.Deserialize.Add(middleware.DeserializeMiddlewareFunc("OperationDeserializer", deserialize), middleware.After),
		awsmiddleware.AddRecordResponseTiming(s),
	)
	if err != nil {
		return nil, err
	}
	for _, fn := range b.apiOptions {
		if err := fn(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// serialize turns a *request into the HTTP request, with the payload hash the signature
// covers in X-Amz-Content-Sha256.
func (b *Bucket) serialize(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
	req, ok := in.Request.(*smithyhttp.Request)
	r, ok2 := in.Parameters.(*request)
	if !ok || !ok2 {
		return middleware.SerializeOutput{}, middleware.Metadata{}, &smithy.SerializationError{Err: fmt.Errorf("unexpected %T, %T", in.Request, in.Parameters)}
	}
	req.Method = r.method
	req.URL = b.objectURL(r.key, r.query)
	for k, v := range r.header {
		req.Header[k] = v
	}
	// Without it Go's transport asks for gzip and unzips behind our back, and the SDK sends it
	// too (signed, so it is part of what the equivalence tests compare).
	req.Header.Set("Accept-Encoding", "identity")
	sum := sha256.Sum256(r.body)
	req.Header.Set(contentSHA256, hex.EncodeToString(sum[:]))
	if r.body != nil {
		var err error
		if req, err = req.SetStream(bytes.NewReader(r.body)); err != nil {
			return middleware.SerializeOutput{}, middleware.Metadata{}, &smithy.SerializationError{Err: err}
		}
	}
	in.Request = req
	return next.HandleSerialize(ctx, in)
}

// sign signs one attempt with SigV4.
func (b *Bucket) sign(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
	req, ok := in.Request.(*smithyhttp.Request)
	if !ok {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, &v4.SigningError{Err: fmt.Errorf("unexpected request type %T", in.Request)}
	}
	creds, err := b.credentials(ctx)
	if err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, &v4.SigningError{Err: err}
	}
	if err := b.signer.SignHTTP(ctx, creds, req.Request, req.Header.Get(contentSHA256), signingName, b.region, b.now()); err != nil {
		return middleware.FinalizeOutput{}, middleware.Metadata{}, &v4.SigningError{Err: err}
	}
	return next.HandleFinalize(ctx, in)
}

// maxBody bounds what is read of an answer: S3's error documents and CopyObject's result are
// a few hundred bytes.
const maxBody = 64 << 10

// deserialize reads the answer and turns a failure — a non-2xx status, or CopyObject's 200
// with an <Error> document, which S3 sends when the copy fails after it started answering —
// into the error the SDK's S3 client returns: an *awshttp.ResponseError around a
// *smithy.GenericAPIError with S3's code and message. The retryer retries it as it would the
// SDK's (5xx, SlowDown, …).
func deserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
	out, md, err := next.HandleDeserialize(ctx, in)
	if err != nil {
		return out, md, err
	}
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if !ok {
		return out, md, &smithy.DeserializationError{Err: fmt.Errorf("unexpected response type %T", out.RawResponse)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	resp.Body.Close()
	if err != nil {
		return out, md, &smithy.DeserializationError{Err: fmt.Errorf("read response body: %w", err)}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	status := resp.StatusCode
	if status >= 200 && status < 300 && errorDocument(body) {
		status = http.StatusInternalServerError // as the SDK treats it: a 5xx, to retry
		resp.StatusCode = status
	}
	requestID := resp.Header.Get("X-Amz-Request-Id")
	if requestID != "" {
		awsmiddleware.SetRequestIDMetadata(&md, requestID)
	}
	if status < 200 || status >= 300 {
		return out, md, &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{Response: resp, Err: apiError(status, body)},
			RequestID:     requestID,
		}
	}
	out.Result = resp.Response
	return out, md, nil
}

// apiError decodes S3's error document; a HEAD answer has none, so its code and message come
// from the status, as in the SDK ("NotFound", "Forbidden").
func apiError(status int, body []byte) *smithy.GenericAPIError {
	doc := string(body)
	code, msg := element(doc, "Code"), element(doc, "Message")
	if code == "" && msg == "" {
		msg = http.StatusText(status)
		code = strings.ReplaceAll(msg, " ", "")
	}
	fault := smithy.FaultClient
	if status >= 500 {
		fault = smithy.FaultServer
	}
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: fault}
}

// S3's error document is small and flat:
//
//	<?xml version="1.0" encoding="UTF-8"?>
//	<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>…</Error>
//
// It is read with package strings: encoding/xml would add about 90 KB to the functions that
// link this package, and nothing else in them needs it.

// errorDocument reports whether body is an XML document whose root element is Error.
func errorDocument(body []byte) bool {
	s := strings.TrimSpace(string(body))
	if strings.HasPrefix(s, "<?") { // the XML declaration
		_, s, _ = strings.Cut(s, "?>")
		s = strings.TrimSpace(s)
	}
	return strings.HasPrefix(s, "<Error>") || strings.HasPrefix(s, "<Error ")
}

// element returns the text of the first element called name in doc, or "".
func element(doc, name string) string {
	_, rest, ok := strings.Cut(doc, "<"+name+">")
	if !ok {
		return ""
	}
	text, _, ok := strings.Cut(rest, "</"+name+">")
	if !ok {
		return ""
	}
	return xmlEntities.Replace(text)
}

// xmlEntities replaces XML's predefined entities, the only escapes S3 writes in a message.
var xmlEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&")
