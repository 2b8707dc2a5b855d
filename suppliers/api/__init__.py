"""The supply chain over REST: trade links, invoices and their bulk import."""
