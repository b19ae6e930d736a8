package main

import (
	"strings"
	"testing"
	"time"
)

func TestValidateWebhooks(t *testing.T) {
	ok := options{contactTimeout: 2 * time.Second}
	if err := ok.validateWebhooks(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	full := ok
	full.deliveryWebhook, full.deliverySecret = "https://hooks.example.com/offline", "k"
	full.contactWebhook, full.contactPolicy, full.contactCacheTTL = "http://127.0.0.1:9000/contacts", true, time.Second
	if err := full.validateWebhooks(); err != nil {
		t.Fatalf("full: %v", err)
	}
	for want, mod := range map[string]func(*options){
		"want an http(s) URL":                func(o *options) { o.deliveryWebhook = "ftp://x" },
		"requires --delivery-webhook-secret": func(o *options) { o.deliverySecret = "" },
		"without --delivery-webhook":         func(o *options) { o.deliveryWebhook = "" },
		"requires --contact-policy":          func(o *options) { o.contactPolicy = false },
		"--contact-webhook \"x\"":            func(o *options) { o.contactWebhook = "x" },
		"must be positive":                   func(o *options) { o.contactTimeout = 0 },
		"must not be negative":               func(o *options) { o.contactCacheTTL = -time.Second },
	} {
		o := full
		mod(&o)
		if err := o.validateWebhooks(); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

// TestWebhookFlagsFromEnv: the webhook flags have environment twins like every flag.
func TestWebhookFlagsFromEnv(t *testing.T) {
	t.Setenv("MOLTZAP_DELIVERY_WEBHOOK", "http://127.0.0.1:1/hook")
	t.Setenv("MOLTZAP_DELIVERY_WEBHOOK_SECRET", "k")
	t.Setenv("MOLTZAP_CONTACT_WEBHOOK_TIMEOUT", "750ms")
	cmd := newRootCmd()
	if err := cmd.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(cmd.Flags()); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"delivery-webhook": "http://127.0.0.1:1/hook", "delivery-webhook-secret": "k",
		"contact-webhook-timeout": "750ms", "contact-webhook": "", "contact-webhook-cache-ttl": "0s"} {
		if got := cmd.Flags().Lookup(name).Value.String(); got != want {
			t.Errorf("--%s = %q, want %q", name, got, want)
		}
	}
}
