"""Portal pages of financing, by who uses them: the applicant, the core enterprise, the bank;
the request page every party shares."""
