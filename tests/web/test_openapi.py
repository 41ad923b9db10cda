def test_the_openapi_document_describes_the_application_form_from_its_definition(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    form = document["components"]["schemas"]["ApplicationForm"]
    assert {"branch", "product", "amount", "applicant"} <= set(form["required"])
    assert form["properties"]["amount"]["format"] == "decimal"
    assert "/applications/{application_id}/signature" in document["paths"]
    assert document["paths"]["/auth/token"]["post"]["security"] == []
