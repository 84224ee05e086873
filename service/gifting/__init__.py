"""Gift vouchers: templates, gift orders, vouchers, claims, redemptions, refunds."""
