package smsvoicetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// The checker must refuse what AWS would refuse, or the adapters' tests prove nothing.
func TestCheckRequestCatchesBadSignatures(t *testing.T) {
	body := []byte(`{"DestinationPhoneNumber":"+14155550100"}`)
	sign := func(service, region string, b []byte) *http.Request {
		t.Helper()
		r, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1:1/", bytes.NewReader(b))
		r.Header.Set("Content-Type", "application/x-amz-json-1.0")
		r.Header.Set("X-Amz-Target", "PinpointSMSVoiceV2.SendVoiceMessage")
		h := sha256.Sum256(b)
		creds := aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretKey}
		if err := v4.NewSigner().SignHTTP(t.Context(), creds, r, hex.EncodeToString(h[:]), service, region, time.Now()); err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name    string
		req     *http.Request
		body    []byte
		wantErr string
	}{
		{"valid", sign("sms-voice", Region, body), body, ""},
		{"body changed after signing", sign("sms-voice", Region, body), []byte(`{"DestinationPhoneNumber":"+14155550101"}`), "signature"},
		{"another service", sign("sms", Region, body), body, "sms-voice"},
		{"another region", sign("sms-voice", "us-east-1", body), body, "credential"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRequest(tt.req, tt.body)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("CheckRequest: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("CheckRequest = %v, want an error about %s", err, tt.wantErr)
			}
		})
	}
}
