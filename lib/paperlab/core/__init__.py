"""What every notebook shares. Knows nothing about any paper."""
