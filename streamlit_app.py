"""Entry script for ``streamlit run streamlit_app.py`` from a checkout (see geo_app/ui/app.py)."""

from geo_app.ui.app import main

main()
