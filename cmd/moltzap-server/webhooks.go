package main

import (
	"errors"
	"fmt"
	"net/url"
)

// validateWebhooks checks the flags of the delivery and contact-policy webhooks.
func (o options) validateWebhooks() error {
	for name, v := range map[string]string{"--delivery-webhook": o.deliveryWebhook, "--contact-webhook": o.contactWebhook} {
		if v == "" {
			continue
		}
		if u, err := url.Parse(v); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s %q: want an http(s) URL", name, v)
		}
	}
	if o.deliveryWebhook != "" && o.deliverySecret == "" {
		return errors.New("--delivery-webhook requires --delivery-webhook-secret (MOLTZAP_DELIVERY_WEBHOOK_SECRET)")
	}
	if o.deliveryWebhook == "" && o.deliverySecret != "" {
		return errors.New("--delivery-webhook-secret given without --delivery-webhook")
	}
	if o.contactWebhook != "" && !o.contactPolicy {
		return errors.New("--contact-webhook requires --contact-policy")
	}
	if o.contactTimeout <= 0 {
		return fmt.Errorf("--contact-webhook-timeout must be positive, got %s", o.contactTimeout)
	}
	if o.contactCacheTTL < 0 {
		return fmt.Errorf("--contact-webhook-cache-ttl must not be negative, got %s", o.contactCacheTTL)
	}
	return nil
}
