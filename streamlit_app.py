"""Entry script for ``streamlit run streamlit_app.py`` from a checkout (see geo_app/ui/app.py)."""

from geo_app.ui.app import main

if __name__ == "__main__":  # not when a worker process re-imports this script
    main()
