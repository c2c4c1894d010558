package geminihook

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	"github.com/geminihook/geminihook/verify"
)

// The functions framework, as Cloud Run's generated main runs it with
// FUNCTION_TARGET=GeminiWebhook, serves our function at "/".
func TestRegisteredWithFunctionsFramework(t *testing.T) {
	t.Setenv("FUNCTION_TARGET", FunctionName)
	h := NewHandler(verify.New(verify.Options{}), nil, nil, HandlerOptions{})
	Install(&Receiver{Handler: h})
	t.Cleanup(func() { installed.Store(nil) })

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	go funcframework.StartHostPort("127.0.0.1", strconv.Itoa(port))

	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	var resp *http.Response
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err = http.Get(url); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var answer map[string]string
	json.NewDecoder(resp.Body).Decode(&answer)
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" || answer["error"] != "method_not_allowed" {
		t.Fatalf("GET / through the framework: %d %v, want our 405", resp.StatusCode, answer)
	}
}
