"""What was agreed and how it is kept: agreements, amendments, covenants, figures, results."""
