-- Lever webhook signature tokens (encrypted) per tenant: written by the Lever ingress work.
SELECT 1;
