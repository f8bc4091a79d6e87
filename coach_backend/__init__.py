"""coach_backend: monocular video -> live 3D body (GC-SSN) -> AR stream and coach dashboard."""
