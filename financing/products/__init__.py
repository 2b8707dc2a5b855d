"""Financing products: what differs from one product to the next (its collateral, its checks,
its quote, who is paid and who repays). The request lifecycle finds them in `registry`."""
