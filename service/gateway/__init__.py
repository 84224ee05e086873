"""The open-gateway client: RSA2 signing, calls, response and notification checks.

Every platform method Minifin calls goes through a wrapper module here named by the platform
API it wraps, with the method name as a constant; capabilities call the wrappers, never
`GatewayClient.call` with a method name of their own:

- `oauth.py`: `alipay.system.oauth.token` (login by auth code)
- `user_info.py`: `alipay.user.info.share` (the public profile)
- `certification.py`: `alipay.user.certify.open.*` (face verification)
- `payments.py`: `alipay.trade.*` (trades, refunds and their queries)
- `template_message.py`: `alipay.open.app.mini.templatemessage.send`
- `zhima.py`: `zhima.credit.score.*` (admittance checks)
- `fund_auth.py`: `alipay.fund.auth.*` and `alipay.trade.pay` against a hold (deposits)
- `alipaycert.py`: `alipay.open.app.alipaycert.download` (certificate mode's rotation)
- `phone_number.py`: not a gateway call: `my.getPhoneNumber`'s signed, encrypted answer, which
  the mini-program hands its server

Money methods' names live in `outcomes.py`, next to the answer table that reads them; the
wrappers import them from there. `client.py`, `signing.py`, `certificates.py`, `cert_mode.py`,
`content_encryption.py` (AES), `encrypted_answers.py`, `money.py` and `errors.py` are the protocol
underneath.
"""
