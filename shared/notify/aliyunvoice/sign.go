package aliyunvoice

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// Sign computes Aliyun's RPC signature, version 1.0, over params (every request parameter,
// common and operation-specific, except Signature itself), as Aliyun's "签名机制" page defines it:
//
//	CanonicalizedQueryString = the parameters sorted by name, each name and value
//	                           percent-encoded, joined as name=value with &
//	StringToSign             = HTTPMethod + "&" + percentEncode("/") + "&" +
//	                           percentEncode(CanonicalizedQueryString)
//	Signature                = Base64(HMAC-SHA1(AccessKeySecret + "&", UTF-8(StringToSign)))
//
// percentEncode is RFC 3986: A–Z a–z 0–9 - _ . ~ stay, everything else is %XY of its UTF-8
// bytes, a space is %20 (never +).
func Sign(method, secret string, params url.Values) string {
	names := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	pairs := make([]string, len(names))
	for i, k := range names {
		pairs[i] = percentEncode(k) + "=" + percentEncode(params.Get(k))
	}
	sts := StringToSign(method, strings.Join(pairs, "&"))
	mac := hmac.New(sha1.New, []byte(secret+"&"))
	mac.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// StringToSign is the string Sign signs for a canonicalized query string.
func StringToSign(method, canonicalized string) string {
	return method + "&" + percentEncode("/") + "&" + percentEncode(canonicalized)
}

// percentEncode is RFC 3986 encoding. url.QueryEscape already leaves exactly the unreserved
// characters alone and encodes "*"; only its "+" for a space differs.
func percentEncode(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
