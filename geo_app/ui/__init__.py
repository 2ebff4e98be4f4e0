"""The Streamlit pages: widgets and session state only; computations live in geo_app."""
