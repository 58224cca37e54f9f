"""Documents made from the engine's tables: spreadsheets (xlsx, csv) and the monthly report (docx)."""
