from formular import create_app
app = create_app()
