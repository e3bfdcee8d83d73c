"""Annual reports (政府信息公开工作年度报告) as data: recognise, extract, check, store in the catalog."""
