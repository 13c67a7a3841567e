"""What borrowers report: statement files parsed and checked, previewed and submitted."""
