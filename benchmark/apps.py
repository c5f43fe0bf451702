from django.apps import AppConfig


class BenchmarkConfig(AppConfig):
    verbose_name = "Benchmark"
    name = "benchmark"
