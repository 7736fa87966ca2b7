"""The pinned copy of Loculus's Helm values the sandbox's organisms are generated from (sandbox/helm_organisms.py)."""
