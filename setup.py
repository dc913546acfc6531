from pathlib import Path

from setuptools import find_packages, setup

here = Path(__file__).parent
requirements = [line.split('#')[0].strip() for line in (here / 'requirements.txt').read_text().splitlines()]

setup(
    name='evalkit',
    version='0.1.0',
    description='A config-driven evaluation harness for large language models',
    long_description=(here / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    license='Apache-2.0',
    python_requires='>=3.10',
    packages=find_packages(include=['evalkit', 'evalkit.*']),
    package_data={'evalkit': ['resources/*/*']},
    install_requires=['torch==2.13.0'] + [r for r in requirements if r],
    extras_require={'test': ['pytest>=8']},
    entry_points={'console_scripts': ['evalkit=evalkit.cli:main']},
)
