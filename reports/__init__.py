"""Annual reports (政府信息公开工作年度报告) as data: recognise them, read their tables and prose, check the figures.

Owns the extraction only; the figures are stored in the catalog (`annual_reports`). May import `archive`.
"""
