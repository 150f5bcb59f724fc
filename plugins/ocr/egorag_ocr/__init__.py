"""egorag OCR: the text in the frames, read by PP-OCRv4 (``ocr=rapidocr``)."""
