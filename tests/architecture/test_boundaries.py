"""What import-linter cannot see: foreign keys, apps.get_model and string model references
that cross an app's seam. The user model is the one key every app may hold."""

import re
from pathlib import Path

from django.apps import apps
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_APPS = ("catalog", "fulfillment", "ordering", "delivery", "insights", "notifications")
PROJECT_APPS = (*DOMAIN_APPS, "kernel")
USER_MODEL = settings.AUTH_USER_MODEL.lower()


def _model_label(model) -> str:
    return model._meta.label_lower


def cross_app_relations() -> list[str]:
    found = []
    for model in apps.get_models():
        owner = model._meta.app_label
        if owner not in DOMAIN_APPS:
            continue
        for field in model._meta.get_fields():
            if not (field.is_relation and field.concrete and field.related_model):
                continue
            target = field.related_model
            target_app = target._meta.app_label
            if _model_label(target) == USER_MODEL or target_app == owner:
                continue
            if target_app in PROJECT_APPS:
                found.append(f"{_model_label(model)}.{field.name} -> {_model_label(target)}")
    return found


MODEL_REFERENCE = re.compile(
    r"""get_model\(\s*["'](?P<app>\w+)["']|["'](?P<label>\w+)\.(?P<model>[A-Z]\w*)["']"""
)


def cross_app_model_references(source_root: Path = ROOT) -> list[str]:
    found = []
    for app in DOMAIN_APPS:
        for path in sorted((source_root / app).rglob("*.py")):
            text = path.read_text()
            for match in MODEL_REFERENCE.finditer(text):
                other = match.group("app") or match.group("label")
                if other in PROJECT_APPS and other != app:
                    line = text.count("\n", 0, match.start()) + 1
                    found.append(f"{path.relative_to(source_root)}:{line}: {match.group(0)}")
    return found


def test_no_foreign_key_crosses_an_app_except_to_the_user_model():
    assert cross_app_relations() == []


def test_no_app_reaches_another_apps_models_by_name():
    assert cross_app_model_references() == []


def test_the_reference_scan_finds_a_planted_get_model(tmp_path):
    (tmp_path / "ordering").mkdir()
    (tmp_path / "ordering" / "sneaky.py").write_text(
        'from django.apps import apps\nStock = apps.get_model("fulfillment", "Stock")\n'
    )
    for app in DOMAIN_APPS:
        (tmp_path / app).mkdir(exist_ok=True)

    assert cross_app_model_references(tmp_path) == ['ordering/sneaky.py:2: get_model("fulfillment"']


def test_the_reference_scan_finds_a_planted_string_foreign_key(tmp_path):
    for app in DOMAIN_APPS:
        (tmp_path / app).mkdir()
    (tmp_path / "delivery" / "models.py").write_text(
        'order = models.ForeignKey("ordering.Order", on_delete=models.PROTECT)\n'
    )

    assert cross_app_model_references(tmp_path) == ['delivery/models.py:1: "ordering.Order"']
