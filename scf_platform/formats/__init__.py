"""Number and date formats where the platform departs from Django's locale defaults."""
